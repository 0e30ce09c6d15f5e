-- wrk script for bench/state_scale.sh (PART=devices): each request is the check-in of a
-- registered device, GET /v1/updates?product=P&channel=stable&hw=rev-b&counter=C&device=KEY.
-- The keys come from FWC_KEYS (one device key in text form a line, as test_node_statefill
-- build-node writes them: line i is device i, registered for product "p%04d" of i % FWC_PRODUCTS
-- with hardware rev-b); FWC_COUNTER is the counter the device reports. Every request is
-- formatted once in init (outside wrk's timed window), so a request costs wrk one table index.
-- Each carries its line number (&n=I, ignored by the node): a key file that repeats one key
-- still gives as many distinct strings (LuaJIT interns strings), so the client's work does not
-- depend on how many distinct devices the file holds.
--
-- By default each request picks a random device. With FWC_SEQ=1 (the warm-up: every device
-- checks in once) thread t of n sends devices t, t + n, t + 2n, ... in order and then starts
-- over; done() says whether every thread got through its share.
local reqs = {}
local threads = {}
local seq = os.getenv("FWC_SEQ") == "1"
local nxt, step = 1, 1
wrapped = 0

function setup(thread)
	thread:set("id", #threads)
	threads[#threads + 1] = thread
end

function init(args)
	local keys = assert(os.getenv("FWC_KEYS"), "FWC_KEYS not set")
	local products = tonumber(os.getenv("FWC_PRODUCTS") or "1")
	local counter = os.getenv("FWC_COUNTER") or "0"
	local i = 0
	for k in io.lines(keys) do
		reqs[#reqs + 1] = wrk.format("GET", string.format(
			"/v1/updates?product=p%04d&channel=stable&hw=rev-b&counter=%s&device=%s&n=%d",
			i % products, counter, k, i))
		i = i + 1
	end
	assert(#reqs > 0, "no device keys in " .. keys)
	nxt = (id or 0) + 1
	step = tonumber(os.getenv("FWC_THREADS") or "2")
	-- A different sequence per thread: the threads share no state.
	math.randomseed(os.time() * 7919 + (id or 0))
end

function request()
	if not seq then
		return reqs[math.random(#reqs)]
	end
	local r = reqs[nxt]
	nxt = nxt + step
	if nxt > #reqs then
		nxt = (id or 0) + 1
		wrapped = 1
	end
	return r
end

function done(summary, latency, requests)
	if seq then
		local all = 1
		for _, t in ipairs(threads) do
			if t:get("wrapped") ~= 1 then
				all = 0
			end
		end
		io.write(string.format("warm: every device checked in: %s\n", all == 1 and "yes" or "no"))
	end
end
