-- SPDX-License-Identifier: BSD-2-Clause
-- sendmail-trusted-relay.lua - a client listed in TrustedRelays (an internal
-- hop that already judged the message) keeps its trust headers: nothing is
-- deleted and nothing is added, even with a partner's envelope sender.
dofile(os.getenv("DOMSEC_TOP") .. "/tests/miltertest/common.lua")

local conn = sendmail_session("192.0.2.99", "40099", {})
if mt.mailfrom(conn, "<a@woodgrovebank.com>") ~= nil then fail("mailfrom") end
check(mt.getreply(conn) == SMFIR_CONTINUE, "trusted relay: partner sender accepted without TLS")
if mt.rcptto(conn, "<b@contoso.com>") ~= nil then fail("rcptto") end
check(mt.getreply(conn) == SMFIR_CONTINUE, "trusted relay: RCPT accepted")
send_message(conn, {
	{"X-Domain-Secured", "mx.contoso.com; domain=woodgrovebank.com; result=secured"},
	{"Authentication-Results", "mx.contoso.com; x-domainsecurity=pass"},
	{"From", "a@woodgrovebank.com"},
})
check(not mt.eom_check(conn, MT_HDRDELETE), "trusted relay: its trust headers are kept")
check(not mt.eom_check(conn, MT_HDRINSERT), "trusted relay: nothing inserted")
mt.disconnect(conn)
