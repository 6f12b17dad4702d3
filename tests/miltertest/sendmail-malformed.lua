-- SPDX-License-Identifier: BSD-2-Clause
-- sendmail-malformed.lua - odd and malformed input through the milter:
-- garbage macros ({client_port}, {cert_fp}, {cipher_bits}, {verify}), an
-- empty and a long header (miltertest itself crashes on values of a few
-- kB, so 900 bytes), From headers that do not parse, many From headers,
-- many copies of our header.  domsecd must answer every step
-- sensibly and never crash (the harness checks it is still running and,
-- with the sanitizer build, that nothing was reported).
dofile(os.getenv("DOMSEC_TOP") .. "/tests/miltertest/common.lua")

local conn = sendmail_session("192.0.2.50", "not-a-port", {
	["{tls_version}"] = "TLSv1.3",
	["{cipher_bits}"] = "99999999999999999999",
	["{verify}"] = "SOMETHING-NEW",
	["{cert_fp}"] = "zz:zz:not:hex",
	["{cert_subject}"] = "+ZZ+4+" .. string.rep("+41", 100),
})
if mt.mailfrom(conn, "<a@woodgrovebank.com>") ~= nil then fail("mailfrom") end
local r = mt.getreply(conn)
check(r == SMFIR_CONTINUE or r == SMFIR_REPLYCODE, "garbage macros: MAIL answered")
if r == SMFIR_CONTINUE then
	if mt.rcptto(conn, "<b@contoso.com>") ~= nil then fail("rcptto") end
	r = mt.getreply(conn)
	check(r == SMFIR_REPLYCODE, "garbage macros: a partner without a usable fingerprint is refused")
end
mt.disconnect(conn)

-- Non-partner mail with odd headers: accepted, forged copies removed.
conn = sendmail_session("192.0.2.51", "40051", { ["{verify}"] = "NONE" })
if mt.mailfrom(conn, "<>") ~= nil then fail("mailfrom") end
check(mt.getreply(conn) == SMFIR_CONTINUE, "null sender: MAIL accepted")
if mt.rcptto(conn, "<b@contoso.com>") ~= nil then fail("rcptto") end
check(mt.getreply(conn) == SMFIR_CONTINUE, "null sender: RCPT accepted (decided at end of message)")
local headers = {
	{"X-Empty", ""},
	{"X-Long", string.rep("x", 900)},
	{"From", "\"unterminated <a@woodgrovebank.com>"},
	{"From", "(comment only)"},
}
for i = 1, 50 do
	table.insert(headers, {"X-Domain-Secured", "copy " .. i})
end
for i = 1, 20 do
	table.insert(headers, {"From", "user" .. i .. "@example.net"})
end
send_message(conn, headers)
r = mt.getreply(conn)
check(r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, "odd headers, unparseable From: accepted as non-partner mail")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Domain-Secured"), "50 forged copies: deleted")
check(not mt.eom_check(conn, MT_HDRINSERT), "unparseable From: nothing inserted")
mt.disconnect(conn)

-- A partner bounce whose From header names the partner: decided at end of
-- message; without TLS it is refused there.
conn = sendmail_session("192.0.2.52", "40052", { ["{verify}"] = "NONE" })
if mt.mailfrom(conn, "<>") ~= nil then fail("mailfrom") end
if mt.rcptto(conn, "<b@contoso.com>") ~= nil then fail("rcptto") end
send_message(conn, {{"From", "MAILER-DAEMON@WoodGroveBank.com"}})
check(mt.getreply(conn) == SMFIR_REPLYCODE, "partner bounce without TLS: refused at end of message")
mt.disconnect(conn)
