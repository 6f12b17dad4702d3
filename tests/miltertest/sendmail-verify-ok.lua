-- SPDX-License-Identifier: BSD-2-Clause
-- sendmail-verify-ok.lua - Sendmail macros for a partner that presented a
-- certificate Sendmail verified ({verify} OK), full-DN subject and issuer
-- (xtext), {cert_fp} (CertFingerprintAlgorithm=sha256, with colons): the
-- message is secured, our headers are inserted, forged copies deleted.
dofile(os.getenv("DOMSEC_TOP") .. "/tests/miltertest/common.lua")

local conn = sendmail_session("192.0.2.10", "40001", {
	["{tls_version}"] = "TLSv1.3",
	["{cipher}"] = "TLS_AES_256_GCM_SHA384",
	["{cipher_bits}"] = "256",
	["{verify}"] = "OK",
	["{cert_subject}"] = "/CN=woodgrovebank.com",
	["{cert_issuer}"] = "/O=domsec+20tests/CN=domsec+20Test+20Issuing+20CA",
	["{cn_subject}"] = "woodgrovebank.com",
	["{cn_issuer}"] = "domsec+20Test+20Issuing+20CA",  -- xtext, as Sendmail sends it
	["{cert_fp}"] = env("FP_EXACT"),
})
if mt.mailfrom(conn, "<a@woodgrovebank.com>") ~= nil then fail("mailfrom") end
check(mt.getreply(conn) == SMFIR_CONTINUE, "{verify}=OK with {cert_fp}: MAIL accepted")
if mt.rcptto(conn, "<b@contoso.com>") ~= nil then fail("rcptto") end
check(mt.getreply(conn) == SMFIR_CONTINUE, "{verify}=OK with {cert_fp}: RCPT accepted")
send_message(conn, {
	{"X-Domain-Secured", "forged; domain=woodgrovebank.com"},
	{"Authentication-Results", "mx.contoso.com; x-domainsecurity=pass"},
	{"Authentication-Results", "other.example; spf=pass"},
	{"X-MS-Exchange-Organization-AuthAs", "Internal"},
	{"From", "Alice <a@woodgrovebank.com>"},
	{"Subject", "secured over Sendmail"},
})
check(mt.getreply(conn) == SMFIR_ACCEPT or mt.getreply(conn) == SMFIR_CONTINUE,
    "{verify}=OK with {cert_fp}: message accepted")
check(mt.eom_check(conn, MT_HDRINSERT, "X-Domain-Secured"), "X-Domain-Secured inserted")
local v = mt.getheader(conn, "X-Domain-Secured", 0)
check(v ~= nil and string.find(v, "domain=woodgrovebank.com", 1, true) ~= nil,
    "X-Domain-Secured names the domain: " .. tostring(v))
check(string.find(v, env("FP_EXACT"), 1, true) ~= nil, "X-Domain-Secured carries the fingerprint")
check(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results"), "Authentication-Results inserted")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Domain-Secured"), "forged X-Domain-Secured deleted")
check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"), "forged Authentication-Results deleted")
-- ExchangeHeaders yes: Exchange's view of the same result, and a forged
-- copy removed.
check(mt.eom_check(conn, MT_HDRINSERT, "X-MS-Exchange-Organization-AuthAs", "Partner"),
    "X-MS-Exchange-Organization-AuthAs: Partner inserted")
check(mt.eom_check(conn, MT_HDRINSERT, "X-MS-Exchange-Organization-AuthDomain", "woodgrovebank.com"),
    "X-MS-Exchange-Organization-AuthDomain inserted")
check(mt.eom_check(conn, MT_HDRDELETE, "X-MS-Exchange-Organization-AuthAs"),
    "forged X-MS-Exchange-Organization-AuthAs deleted")
mt.disconnect(conn)
