-- SPDX-License-Identifier: BSD-2-Clause
-- common.lua - helpers shared by the miltertest scripts: connect to the
-- domsecd started by tests/integration/45-sendmail-miltertest.sh
-- (DOMSEC_MILTER = "inet:PORT@127.0.0.1") and fail with a message.
function fail(what)
	error("FAILED: " .. what)
end

function ok(what)
	mt.echo("ok - " .. what)
end

function check(cond, what)
	if not cond then fail(what) end
	ok(what)
end

function env(name)
	local v = os.getenv(name)
	if v == nil or v == "" then fail("environment variable " .. name .. " not set") end
	return v
end

-- A session up to HELO as real Sendmail 8.17 sends it (checked against
-- the real one in tests/integration/48-sendmail-real.sh):
--  * without TLS (tls_macros empty): one HELO and no TLS macros at all, not
--    even {verify};
--  * with TLS: HELO twice, the first (before STARTTLS) without TLS macros,
--    the second with them; certificate macros Sendmail sends empty when the
--    client presented no certificate are filled in as empty strings; the
--    TLS macros ({tls_version}, {verify}, {cert_fp}) are sent again with
--    MAIL (confMILTER_MACROS_ENVFROM in contrib/sendmail.mc);
--  * an IPv6 client's {client_addr} is "IPv6:0:0:0:0:0:0:0:1" (pass it so).
local cert_macros = { "{cert_subject}", "{cert_issuer}", "{cn_subject}",
	"{cn_issuer}", "{cert_fp}" }

function sendmail_session(client_ip, client_port, tls_macros)
	local conn = mt.connect(env("DOMSEC_MILTER"), 20, 0.25)
	if conn == nil then fail("cannot connect to domsecd at " .. env("DOMSEC_MILTER")) end
	mt.set_timeout(30)
	if mt.macro(conn, SMFIC_CONNECT, "j", "mx.contoso.com", "{daemon_name}", "MTA",
	    "{client_addr}", client_ip, "{client_port}", client_port) ~= nil then
		fail("connect macros")
	end
	local ip = client_ip
	if string.sub(ip, 1, 5) == "IPv6:" then ip = "::1" end
	if mt.conninfo(conn, "mail.partner.test", ip) ~= nil then fail("conninfo") end
	check(mt.getreply(conn) == SMFIR_CONTINUE, "connect accepted")
	-- the first HELO: before STARTTLS (or the only one)
	if mt.helo(conn, "mail.partner.test") ~= nil then fail("helo") end
	check(mt.getreply(conn) == SMFIR_CONTINUE, "HELO accepted")
	local tls = tls_macros ~= nil and next(tls_macros) ~= nil
	if not tls then return conn end
	local m = {}
	for k, v in pairs(tls_macros) do m[k] = v end
	for _, k in ipairs(cert_macros) do
		if m[k] == nil then m[k] = "" end
	end
	local args = {}
	for k, v in pairs(m) do
		table.insert(args, k)
		table.insert(args, v)
	end
	if mt.macro(conn, SMFIC_HELO, table.unpack(args)) ~= nil then
		fail("helo macros")
	end
	if mt.helo(conn, "mail.partner.test") ~= nil then fail("helo after STARTTLS") end
	check(mt.getreply(conn) == SMFIR_CONTINUE, "HELO after STARTTLS accepted")
	local mail = {}
	for _, k in ipairs({ "{tls_version}", "{verify}", "{cert_fp}" }) do
		if m[k] ~= nil then
			table.insert(mail, k)
			table.insert(mail, m[k])
		end
	end
	if #mail > 0 and mt.macro(conn, SMFIC_MAIL, table.unpack(mail)) ~= nil then
		fail("mail macros")
	end
	return conn
end

-- Sends headers (a list of {name, value}) and the end of message.  domsecd
-- has no DATA, end-of-header or body callbacks, so libmilter negotiates
-- those steps away (SMFIP_NODATA, SMFIP_NOEOH, SMFIP_NOBODY) as the MTA
-- would, and miltertest refuses to send them.
function send_message(conn, headers)
	for _, h in ipairs(headers) do
		if mt.header(conn, h[1], h[2]) ~= nil then fail("header " .. h[1]) end
	end
	if mt.eom(conn) ~= nil then fail("eom") end
end
