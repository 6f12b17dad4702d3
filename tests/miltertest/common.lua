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

-- A Sendmail-like session up to HELO with the given TLS macros (a table).
function sendmail_session(client_ip, client_port, tls_macros)
	local conn = mt.connect(env("DOMSEC_MILTER"), 20, 0.25)
	if conn == nil then fail("cannot connect to domsecd at " .. env("DOMSEC_MILTER")) end
	mt.set_timeout(30)
	if mt.macro(conn, SMFIC_CONNECT, "j", "mx.contoso.com", "{daemon_name}", "MTA",
	    "{client_addr}", client_ip, "{client_port}", client_port) ~= nil then
		fail("connect macros")
	end
	if mt.conninfo(conn, "mail.partner.test", client_ip) ~= nil then fail("conninfo") end
	check(mt.getreply(conn) == SMFIR_CONTINUE, "connect accepted")
	local args = {}
	for k, v in pairs(tls_macros) do
		table.insert(args, k)
		table.insert(args, v)
	end
	if #args > 0 and mt.macro(conn, SMFIC_HELO, table.unpack(args)) ~= nil then
		fail("helo macros")
	end
	if mt.helo(conn, "mail.partner.test") ~= nil then fail("helo") end
	check(mt.getreply(conn) == SMFIR_CONTINUE, "HELO accepted")
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
