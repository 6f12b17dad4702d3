-- SPDX-License-Identifier: BSD-2-Clause
-- sendmail-no-tls.lua - no TLS macros at all (real Sendmail sends not even
-- {verify} without STARTTLS): a partner's
-- mail is refused at MAIL; mail from a non-partner is accepted untouched
-- except that forged trust headers are deleted.
dofile(os.getenv("DOMSEC_TOP") .. "/tests/miltertest/common.lua")

local conn = sendmail_session("192.0.2.20", "40010", {})
if mt.mailfrom(conn, "<a@woodgrovebank.com>") ~= nil then fail("mailfrom") end
check(mt.getreply(conn) == SMFIR_REPLYCODE, "no TLS: partner refused at MAIL with a reply")
mt.disconnect(conn)

conn = sendmail_session("192.0.2.21", "40011", {})
if mt.mailfrom(conn, "<a@example.net>") ~= nil then fail("mailfrom") end
check(mt.getreply(conn) == SMFIR_CONTINUE, "no TLS: non-partner MAIL accepted")
if mt.rcptto(conn, "<b@contoso.com>") ~= nil then fail("rcptto") end
check(mt.getreply(conn) == SMFIR_CONTINUE, "no TLS: non-partner RCPT accepted")
send_message(conn, {
	{"X-Domain-Secured", "forged"},
	{"From", "a@example.net"},
	{"Authentication-Results", "mx.contoso.com; x-domainsecurity=pass"},
})
check(mt.eom_check(conn, MT_HDRDELETE, "X-Domain-Secured"), "non-partner: forged X-Domain-Secured deleted")
check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"), "non-partner: forged Authentication-Results deleted")
check(not mt.eom_check(conn, MT_HDRINSERT), "non-partner: nothing inserted")
mt.disconnect(conn)
