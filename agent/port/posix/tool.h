/* fwagent tool — what its commands share (agent/port/posix/tool.c): trust anchors for the
 * agent from a trust file, the device key from a key file or a keystore, and one agent cycle
 * (power on when needed, step until idle across simulated reboots). Internal to the tool. */
#ifndef FWAGENT_POSIX_TOOL_H
#define FWAGENT_POSIX_TOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "fwchain/trust.h"
#include "port_posix.h"

/* A trust file and the agent's view of it; the provision points into it (keep it alive). */
struct tool_trust {
	struct fwc_trust file;
	struct fwc_agent_trust trust;
	char text[FWC_TRUST_MAX_LEN + 1];
};

/* Read the trust file at path and provision prov with its chain, validators, quorum, maximum
 * age and the key sets of product (NULL: the file's only product), the root set being at
 * root_version. Returns 0, or -1 after writing a message into err[0..cap). */
int tool_trust_load(struct tool_trust *t, struct fwc_agent_provision *prov, const char *path,
                    const char *product, uint64_t root_version, char *err, size_t cap);

/* Give port the BIP-340 key in the file at path: 64 hex digits (an optional newline after
 * them), or an fwchain keystore decrypted with the passphrase from passfile (its first line)
 * or else $FWAGENT_PASSPHRASE. Returns 0, or -1 after writing a message into err[0..cap). */
int tool_key_load(struct fwc_port *port, const char *path, const char *passfile, char *err,
                  size_t cap);

/* Outcome of one cycle. */
struct tool_cycle {
	int resets; /* power-ons done */
	int steps;
	int last_err; /* error of the last step (0: none) */
	bool settled; /* the agent reached IDLE */
};

/* One agent cycle: when *powered is false, power the device on (boot selection, fresh agent);
 * then step until the agent is back in IDLE after at least one step, powering on again after
 * each simulated reboot (at most 16 times, 1000 steps each). trace 1 prints every state, 2
 * also the milliseconds since the process's first cycle after each (what the benchmarks read).
 * Returns 0 when the agent settled, -1 (power-on failure, no settling) otherwise. */
int tool_cycle_run(struct tool_cycle *out, struct fwc_agent *agent, bool *powered,
                   struct fwc_port *port, const struct fwc_agent_provision *prov, int trace);

/* Monotonic seconds. */
double tool_now(void);

#endif
