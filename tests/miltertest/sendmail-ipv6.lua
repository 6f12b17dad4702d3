-- SPDX-License-Identifier: BSD-2-Clause
-- sendmail-ipv6.lua - an IPv6 client as real Sendmail names it in
-- {client_addr} ("IPv6:0:0:0:0:0:0:0:1", uncompressed, with the IPv6:
-- prefix): a partner with a verified certificate is secured as over IPv4.
dofile(os.getenv("DOMSEC_TOP") .. "/tests/miltertest/common.lua")

local conn = sendmail_session("IPv6:0:0:0:0:0:0:0:1", "40061", {
	["{tls_version}"] = "TLSv1.3",
	["{cipher}"] = "TLS_AES_256_GCM_SHA384",
	["{cipher_bits}"] = "256",
	["{verify}"] = "OK",
	["{cert_subject}"] = "/CN=woodgrovebank.com",
	["{cert_issuer}"] = "/O=domsec+20tests/CN=domsec+20Test+20Issuing+20CA",
	["{cn_subject}"] = "woodgrovebank.com",
	["{cn_issuer}"] = "domsec+20Test+20Issuing+20CA",
	["{cert_fp}"] = env("FP_EXACT"),
})
if mt.mailfrom(conn, "<a@woodgrovebank.com>") ~= nil then fail("mailfrom") end
check(mt.getreply(conn) == SMFIR_CONTINUE, "IPv6 client: MAIL accepted")
if mt.rcptto(conn, "<b@contoso.com>") ~= nil then fail("rcptto") end
check(mt.getreply(conn) == SMFIR_CONTINUE, "IPv6 client: RCPT accepted")
send_message(conn, {
	{"From", "Alice <a@woodgrovebank.com>"},
	{"Subject", "secured over IPv6"},
})
check(mt.eom_check(conn, MT_HDRINSERT, "X-Domain-Secured"), "IPv6 client: X-Domain-Secured inserted")
local v = mt.getheader(conn, "X-Domain-Secured", 0)
check(v ~= nil and string.find(v, "result=secured", 1, true) ~= nil,
    "IPv6 client: secured: " .. tostring(v))
mt.disconnect(conn)
