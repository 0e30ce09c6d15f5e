/* What the fwagent tool's commands share: trust anchors from a trust file, the device key
 * from a key file or keystore, and the agent cycle (power on, step to idle, simulated
 * reboots), used alike by `boot`, `check`, `run` and the fleet simulator.
 *
 * Main design choice: a cycle is "until the agent is IDLE again", not a fixed number of steps,
 * so one cycle is a whole check-in: nothing to do, a refusal, or download, install, reboot,
 * trial boot, confirmation and report. */
#include "tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwchain/hex.h"
#include "fwchain/keystore.h"

#define MAX_RESETS 16
#define MAX_STEPS 1000

double tool_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int tool_trust_load(struct tool_trust *t, struct fwc_agent_provision *prov, const char *path,
                    const char *product, uint64_t root_version, char *err, size_t cap)
{
	const struct fwc_trust_product *p = NULL;
	struct fwc_errinfo ei = {0, ""};
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc;

	if (f == NULL) {
		snprintf(err, cap, "%s: cannot open", path);
		return -1;
	}
	n = fread(t->text, 1, sizeof(t->text), f);
	fclose(f);
	if ((rc = fwc_trust_parse(&t->file, t->text, n, &ei)) < 0) {
		snprintf(err, cap, "%s: %s: %s", path, fwc_strerror(rc), ei.msg);
		return -1;
	}
	if (product != NULL)
		p = fwc_trust_product_find(&t->file, product, strlen(product));
	else if (t->file.n_products == 1)
		p = &t->file.products[0];
	if (p == NULL) {
		snprintf(err, cap, "%s: %s", path,
		         product ? "no such product in the trust file" : "name the product");
		return -1;
	}
	if (t->file.n_validators > FWC_AGENT_MAX_VALIDATORS) {
		snprintf(err, cap, "%s: more validators than the agent takes", path);
		return -1;
	}
	memset(&t->trust, 0, sizeof(t->trust));
	t->trust.chain_id = t->file.origin;
	t->trust.chain_id_len = t->file.origin_len;
	t->trust.validators = t->file.validators;
	t->trust.n_validators = t->file.n_validators;
	t->trust.quorum = t->file.quorum;
	t->trust.max_age = t->file.max_age;
	t->trust.root = p->has_root ? &p->root : NULL;
	t->trust.root_version = root_version;
	t->trust.release = p->has_release ? &p->release : NULL;
	prov->trust = &t->trust;
	prov->id.product = p->id;
	prov->id.product_len = p->id_len;
	return 0;
}

int tool_key_load(struct fwc_port *port, const char *path, const char *passfile, char *err,
                  size_t cap)
{
	uint8_t buf[512], secret[32];
	char pass[256];
	size_t n, plen = 0, got = 0;
	FILE *f = fopen(path, "rb");
	int rc = -1;

	if (f == NULL) {
		snprintf(err, cap, "%s: cannot open the device key", path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if ((n == 64 || (n == 65 && buf[64] == '\n')) &&
	    fwc_hex_decode(secret, sizeof(secret), &got, (const char *)buf, 64) == FWC_OK &&
	    got == 32) {
		if (fwc_posix_set_key(port, secret) == FWC_OK)
			rc = 0;
		else
			snprintf(err, cap, "%s: not a valid BIP-340 secret key", path);
	} else {
		struct fwc_errinfo ei = {0, ""};
		struct fwc_seckey sk;
		const char *env = getenv("FWAGENT_PASSPHRASE");
		int lrc;

		if (passfile != NULL && passfile[0] != '\0') {
			FILE *pf = fopen(passfile, "rb");

			if (pf == NULL) {
				snprintf(err, cap, "%s: cannot open the passphrase file", passfile);
				goto out;
			}
			plen = fread(pass, 1, sizeof(pass) - 1, pf);
			fclose(pf);
			while (plen > 0 && (pass[plen - 1] == '\n' || pass[plen - 1] == '\r'))
				plen--;
		} else if (env != NULL && strlen(env) < sizeof(pass)) {
			plen = strlen(env);
			memcpy(pass, env, plen);
		} else {
			snprintf(err, cap,
			         "%s: a keystore needs passphrase-file or $FWAGENT_PASSPHRASE",
			         path);
			goto out;
		}
		if ((lrc = fwc_keystore_load(&sk, path, pass, plen, &ei)) < 0) {
			snprintf(err, cap, "%s: %s: %s", path, fwc_strerror(lrc), ei.msg);
			goto out;
		}
		if (sk.alg != FWC_ALG_BIP340 || fwc_key_secret(secret, &sk) < 0 ||
		    fwc_posix_set_key(port, secret) < 0)
			snprintf(err, cap, "%s: the device key must be a BIP-340 key", path);
		else
			rc = 0;
		fwc_seckey_wipe(&sk);
	}
out:
	fwc_wipe(secret, sizeof(secret));
	fwc_wipe(buf, sizeof(buf));
	fwc_wipe(pass, sizeof(pass));
	return rc;
}

int tool_cycle_run(struct tool_cycle *out, struct fwc_agent *agent, bool *powered,
                   struct fwc_port *port, const struct fwc_agent_provision *prov, int trace)
{
	static const char *const slot_names[] = {"A", "B"};
	static double t0;

	if (t0 == 0)
		t0 = tool_now();

	memset(out, 0, sizeof(*out));
	for (int reset = 0; reset <= MAX_RESETS; reset++) {
		if (!*powered) {
			uint8_t slot = FWC_SLOT_NONE;
			int rc = fwc_posix_power_on(agent, &slot, port, prov);

			out->resets++;
			if (rc < 0) {
				out->last_err = rc;
				if (trace)
					fprintf(stderr, "fwagent: power-on failed: %s\n",
					        fwc_strerror(rc));
				return -1;
			}
			*powered = true;
			if (trace)
				printf("power on: running slot %s, state %s\n",
				       slot < 2 ? slot_names[slot] : "none",
				       fwc_agent_state_name(fwc_agent_state(agent)));
		}
		for (int i = 0; i < MAX_STEPS; i++) {
			enum fwc_agent_state s = fwc_agent_step(agent);
			int err = fwc_agent_last_error(agent);

			out->steps++;
			out->last_err = err;
			if (trace >= 2)
				printf("  -> %s%s%s [%.3f ms]\n", fwc_agent_state_name(s),
				       err ? ": " : "", err ? fwc_strerror(err) : "",
				       (tool_now() - t0) * 1000.0);
			else if (trace)
				printf("  -> %s%s%s\n", fwc_agent_state_name(s), err ? ": " : "",
				       err ? fwc_strerror(err) : "");
			if (port->reboot_requested) {
				*powered = false;
				break;
			}
			if (s == FWC_AGENT_IDLE) {
				out->settled = true;
				return 0;
			}
		}
		if (*powered) {
			if (trace)
				fprintf(stderr, "fwagent: agent did not settle in %d steps\n",
				        MAX_STEPS);
			return -1;
		}
	}
	if (trace)
		fprintf(stderr, "fwagent: still rebooting after %d resets\n", MAX_RESETS);
	return -1;
}
