/* Fuzz target for the agent's state-record decoder (agent/core/record.c).
 *
 * Record areas are read back from flash that may be torn, worn or tampered with, so the decoder
 * must refuse any byte string that is not a record without crashing. Because a random input
 * almost never carries a right SHA-256, the first input byte picks a mode: even, the rest is
 * decoded as an area's content; odd, the rest is a record body to which the harness appends its
 * correct hash, so the field checks behind the hash get exercised too. A record that decodes
 * and has this build's version and queue size must re-encode to exactly the same bytes (the
 * decoder accepts only canonical records). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwagent/record.h"
#include "fwchain/sha256.h"
#include "port_posix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fwc_port port; /* hashing needs no device directory */
	static uint8_t buf[FWC_AGENT_RECORD_MAX + 32], again[FWC_AGENT_RECORD_MAX];
	struct fwc_agent_record rec;
	size_t len, elen = 0;

	if (size < 1 || size - 1 > FWC_AGENT_RECORD_MAX)
		return 0;
	len = size - 1;
	memcpy(buf, data + 1, len);
	if (data[0] & 1) {
		if (fwc_sha256(buf + len, buf, len) != FWC_OK)
			abort();
		len += 32;
	}
	if (fwc_agent_record_decode(&port, &rec, buf, len) != FWC_OK)
		return 0;
	/* only this build's version and queue size re-encode to the same bytes (a record
	 * of an older version is rewritten as the current one) */
	if (buf[4] != FWC_AGENT_RECORD_VERSION || buf[5] != FWC_AGENT_EVENT_QUEUE)
		return 0;
	if (fwc_agent_record_encode(&port, again, sizeof(again), &elen, &rec) != FWC_OK)
		abort();
	if (elen != FWC_AGENT_RECORD_LEN || memcmp(again, buf, elen) != 0)
		abort();
	return 0;
}
