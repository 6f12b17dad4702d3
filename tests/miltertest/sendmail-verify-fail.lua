-- SPDX-License-Identifier: BSD-2-Clause
-- sendmail-verify-fail.lua - {verify} FAIL: Sendmail could not verify the
-- chain.  domsec verifies it itself: a certificate from an unknown CA is
-- refused at MAIL (550 5.7.1); {verify} NO (no certificate) is refused too.
dofile(os.getenv("DOMSEC_TOP") .. "/tests/miltertest/common.lua")

local conn = sendmail_session("192.0.2.11", "40002", {
	["{tls_version}"] = "TLSv1.3",
	["{cipher}"] = "TLS_AES_256_GCM_SHA384",
	["{cipher_bits}"] = "256",
	["{verify}"] = "FAIL",
	["{cert_subject}"] = "/CN=woodgrovebank.com",
	["{cert_issuer}"] = "/CN=Unknown+20Root+20CA",
	["{cert_fp}"] = env("FP_UNTRUSTED"),
})
if mt.mailfrom(conn, "<a@woodgrovebank.com>") ~= nil then fail("mailfrom") end
check(mt.getreply(conn) == SMFIR_REPLYCODE, "{verify}=FAIL, unknown CA: refused at MAIL with a reply")
mt.disconnect(conn)

conn = sendmail_session("192.0.2.12", "40003", {
	["{tls_version}"] = "TLSv1.3",
	["{cipher}"] = "TLS_AES_256_GCM_SHA384",
	["{cipher_bits}"] = "256",
	["{verify}"] = "NO",
})
if mt.mailfrom(conn, "<a@woodgrovebank.com>") ~= nil then fail("mailfrom") end
check(mt.getreply(conn) == SMFIR_REPLYCODE, "{verify}=NO: refused at MAIL with a reply")
mt.disconnect(conn)

-- {verify}=FAIL but the certificate is the partner's (Sendmail's CA file
-- lacks the issuer): domsec's own verification secures it.
conn = sendmail_session("192.0.2.13", "40004", {
	["{tls_version}"] = "TLSv1.2",
	["{cipher}"] = "ECDHE-ECDSA-AES256-GCM-SHA384",
	["{cipher_bits}"] = "256",
	["{verify}"] = "FAIL",
	["{cert_subject}"] = "/CN=woodgrovebank.com",
	["{cert_fp}"] = env("FP_EXACT"),
})
if mt.mailfrom(conn, "<a@woodgrovebank.com>") ~= nil then fail("mailfrom") end
check(mt.getreply(conn) == SMFIR_CONTINUE, "{verify}=FAIL, partner certificate: MAIL accepted")
if mt.rcptto(conn, "<b@contoso.com>") ~= nil then fail("rcptto") end
send_message(conn, {{"From", "a@woodgrovebank.com"}})
check(mt.eom_check(conn, MT_HDRINSERT, "X-Domain-Secured"), "{verify}=FAIL, partner certificate: tagged")
mt.disconnect(conn)
