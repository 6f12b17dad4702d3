-- SPDX-License-Identifier: BSD-2-Clause
-- sendmail-no-chghdrs.lua - an MTA that offers to add headers but not to
-- change or remove them (SMFIF_CHGHDRS) is refused at negotiation: domsecd
-- could not remove forged trust headers there, so it must never tag.
-- (Found by review: the no-reply negotiation had quietly dropped the
-- action and tagged next to the forged copy.)
dofile(os.getenv("DOMSEC_TOP") .. "/tests/miltertest/common.lua")
local conn = mt.connect(env("DOMSEC_MILTER"), 20, 0.25)
if conn == nil then fail("cannot connect to domsecd") end
mt.set_timeout(30)
-- milter protocol 6, actions: SMFIF_ADDHDRS (1) only, all steps
local rc = mt.negotiate(conn, 6, SMFIF_ADDHDRS, 0)
check(rc ~= nil, "an MTA without SMFIF_CHGHDRS is refused at negotiation (" ..
	tostring(rc) .. ")")
