/* Fuzz target for the device's check chain (agent/core/verify.c) and the check-in's answer
 * handling: any bytes a node may answer are run through fwc_agent_verify_bundle (and, as a
 * "no update" note, fwc_agent_verify_checkpoint) against fixed trust anchors — the ledger of
 * agent/tests/ledger.h — with the device's record saying nothing and, in a second run, saying
 * a checkpoint of another size was accepted. The chain must refuse or accept without crashing,
 * never read outside the input, and only ever answer FWC_AGENT_VERIFIED or a known reason.
 * The seed corpus (fuzz/corpus/agent_verify/) holds honest bundles and notes of that ledger,
 * made by agent/fuzz/agent_verify_seeds.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "port_posix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ledger L;
static struct fwc_port port; /* hashing and signature checks need no device directory */
static struct fwc_agent_verify_work work;

static void check(int r)
{
	if (r != FWC_AGENT_VERIFIED && (r <= FWC_AGENT_REFUSE_NONE || r >= FWC_AGENT_REFUSE_COUNT))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct fwc_agent_verify_in in;
	struct fwc_agent_verified v;
	struct fwc_agent_checkpoint cp;
	uint8_t *copy;
	int err;

	if (!ready) {
		if (ledger_init(&L) != 0)
			abort();
		fwc_agent_verify_bind(&port);
		ready = 1;
	}
	/* an exact-size copy, so that a read past the end is caught by the sanitizer */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	memset(&in, 0, sizeof(in));
	in.trust = &L.trust;
	in.id = &L.id;
	in.floor = 42;
	in.max_size = 1u << 20;
	check(fwc_agent_verify_bundle(&work, &v, &err, copy, size, &in));
	check(fwc_agent_verify_checkpoint(&work, &cp, &err, (const char *)copy, size, &in));
	in.accepted.size = 3;
	in.accepted.time = L_T0 + 100;
	in.have_clock = 1;
	in.now = L_T0 + 200;
	check(fwc_agent_verify_bundle(&work, &v, &err, copy, size, &in));
	free(copy);
	return 0;
}
