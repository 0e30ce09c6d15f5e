/* Fuzz target for the fwagent configuration parser (agent/port/posix/config.c).
 *
 * A configuration file is written by provisioning, but it sits on a device's file system and
 * a damaged or hand-edited one must be refused with a message, never crash the agent. Checks
 * beyond "no crash": the parser stops at the format's bounds, and whatever it accepts has its
 * required fields and values within the bounds docs/formats/agent-config.md states. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fwchain/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_config c;
	char err[256];
	int rc = agent_config_parse(&c, (const char *)data, size, "base", err, sizeof(err));

	if (rc == FWC_OK) {
		if (c.node[0] == '\0' || c.product[0] == '\0' || c.hwid[0] == '\0' ||
		    c.device_dir[0] == '\0' || c.trust[0] == '\0' || c.root_version == 0 ||
		    c.erase_unit == 0 || (c.erase_unit & (c.erase_unit - 1)) != 0 ||
		    c.poll_interval == 0 || (c.slot_size != 0 && c.slot_size % c.erase_unit != 0) ||
		    strnlen(c.node, sizeof(c.node)) == sizeof(c.node))
			abort();
	} else if (rc >= 0 || err[0] == '\0') {
		abort(); /* a refusal is a negative code with a message */
	}
	return 0;
}
