-- wrk script for bench/state_scale.sh (PART=devices): each request is the check-in of a random
-- registered device, GET /v1/updates?product=P&channel=stable&hw=rev-b&counter=C&device=KEY.
-- The keys come from FWC_KEYS (one device key in text form a line, as test_node_statefill
-- build-node writes them: line i is device i, registered for product "p%04d" of i % FWC_PRODUCTS
-- with hardware rev-b); FWC_COUNTER is the counter the device reports. Every request is
-- formatted once in init (outside wrk's timed window), so a request costs wrk one table index.
local reqs = {}

function init(args)
	local keys = assert(os.getenv("FWC_KEYS"), "FWC_KEYS not set")
	local products = tonumber(os.getenv("FWC_PRODUCTS") or "1")
	local counter = os.getenv("FWC_COUNTER") or "0"
	local i = 0
	for k in io.lines(keys) do
		reqs[#reqs + 1] = wrk.format("GET", string.format(
			"/v1/updates?product=p%04d&channel=stable&hw=rev-b&counter=%s&device=%s",
			i % products, counter, k))
		i = i + 1
	end
	assert(#reqs > 0, "no device keys in " .. keys)
	-- A different sequence per thread: the threads share no state.
	math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000003)
end

function request()
	return reqs[math.random(#reqs)]
end
