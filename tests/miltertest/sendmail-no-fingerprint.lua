-- SPDX-License-Identifier: BSD-2-Clause
-- sendmail-no-fingerprint.lua - {verify} OK but no {cert_fp} (Sendmail
-- without CertFingerprintAlgorithm): the certificate cannot be bound to
-- the session, so revocation cannot be checked: unknown-certificate, a
-- temporary refusal (451 4.7.5) at RCPT.
dofile(os.getenv("DOMSEC_TOP") .. "/tests/miltertest/common.lua")

local conn = sendmail_session("192.0.2.30", "40020", {
	["{tls_version}"] = "TLSv1.3",
	["{cipher}"] = "TLS_AES_256_GCM_SHA384",
	["{verify}"] = "OK",
	["{cert_subject}"] = "/CN=woodgrovebank.com",
})
if mt.mailfrom(conn, "<a@woodgrovebank.com>") ~= nil then fail("mailfrom") end
check(mt.getreply(conn) == SMFIR_CONTINUE, "no {cert_fp}: MAIL waits for RCPT")
if mt.rcptto(conn, "<b@contoso.com>") ~= nil then fail("rcptto") end
check(mt.getreply(conn) == SMFIR_REPLYCODE, "no {cert_fp}: refused at RCPT with a reply")
mt.disconnect(conn)

-- The fingerprint in lower case without colons is read as well.
conn = sendmail_session("192.0.2.31", "40021", {
	["{tls_version}"] = "TLSv1.3",
	["{verify}"] = "OK",
	["{cert_fp}"] = env("FP_EXACT_PLAIN"),
})
if mt.mailfrom(conn, "<a@woodgrovebank.com>") ~= nil then fail("mailfrom") end
check(mt.getreply(conn) == SMFIR_CONTINUE, "lower-case {cert_fp} without colons: MAIL accepted")
if mt.rcptto(conn, "<b@contoso.com>") ~= nil then fail("rcptto") end
send_message(conn, {{"From", "<a@woodgrovebank.com>"}})
check(mt.eom_check(conn, MT_HDRINSERT, "X-Domain-Secured"), "lower-case {cert_fp}: tagged")
mt.disconnect(conn)
