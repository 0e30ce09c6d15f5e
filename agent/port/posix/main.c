/* fwagent — a device simulated in a directory, driven from the command line.
 *
 *   fwagent format DIR SLOT_SIZE [ERASE_UNIT]   create the device (slots erased, no record)
 *   fwagent factory DIR IMAGE                   program IMAGE into slot A (manufacturing)
 *   fwagent status DIR                          print both record copies and the state in use
 *   fwagent boot DIR [--floor N] [--health CMD] [--no-clock]
 *                [--trust FILE --node URL --hw ID [--product ID] [--channel NAME]
 *                 [--gateway URL]]                  power on and run the agent until it is idle
 *
 * `boot` runs the boot selection and the agent's state machine; when the agent asks for a
 * reboot it powers on again (at most MAX_RESETS times), so one call goes through a check-in,
 * download, install, trial boot and confirmation or rollback. The device checks in only when it
 * is provisioned: --trust names a trust anchors file (docs/formats/trust.md: chain, validators,
 * quorum, maximum age, the product's root and release key sets; the root set's version is taken
 * as 1), --node the node's base URL, --hw the hardware id; the product is the trust file's only
 * one unless --product names it, the channel "stable" unless --channel does. This is the
 * product build of the core (no test entry point). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwchain/hex.h"
#include "fwchain/trust.h"
#include "port_posix.h"

#define MAX_RESETS 16
#define MAX_STEPS 1000

static struct fwc_agent agent; /* 30 KiB: static, as on a device */
static struct fwc_trust trust_file;
static struct fwc_agent_trust trust;
static char trust_text[FWC_TRUST_MAX_LEN + 1];

static int usage(void)
{
	fprintf(stderr, "usage: fwagent format DIR SLOT_SIZE [ERASE_UNIT]\n"
	                "       fwagent factory DIR IMAGE\n"
	                "       fwagent status DIR\n"
	                "       fwagent boot DIR [--floor N] [--health CMD] [--no-clock]\n"
	                "                    [--trust FILE --node URL --hw ID [--product ID]\n"
	                "                     [--channel NAME] [--gateway URL]]\n");
	return 2;
}

static const char *slot_name(uint8_t s)
{
	return s == FWC_SLOT_A ? "A" : s == FWC_SLOT_B ? "B" : "none";
}

static void print_hash(const char *label, const uint8_t h[32])
{
	char hex[65];

	fwc_hex_encode(hex, sizeof(hex), h, 32);
	printf("%s%s\n", label, hex);
}

static void print_record(const struct fwc_agent_record *r)
{
	printf("  seq: %" PRIu32 "\n", r->seq);
	printf("  active slot: %s (counter %" PRIu64 ", %" PRIu64 " bytes)\n",
	       slot_name(r->active_slot), r->active.counter, r->active.size);
	if (r->active.size)
		print_hash("  active sha256: ", r->active.sha256);
	printf("  pending slot: %s", slot_name(r->pending_slot));
	if (r->pending_slot != FWC_SLOT_NONE)
		printf(" (counter %" PRIu64 ", %" PRIu64 " bytes, %u boot attempts)",
		       r->pending.counter, r->pending.size, r->boot_attempts);
	printf("\n  floor: %" PRIu64 "\n", r->floor);
	printf("  checkpoint: size %" PRIu64 ", time %" PRIu64 "\n", r->checkpoint.size,
	       r->checkpoint.time);
	if (r->checkpoint.size || r->checkpoint.time)
		print_hash("  checkpoint root: ", r->checkpoint.hash);
	printf("  transaction nonce: %" PRIu64 "\n", r->tx_nonce);
	if (r->download.active)
		printf("  download: slot %s, counter %" PRIu64 ", %" PRIu64 " of %" PRIu64
		       " bytes verified\n",
		       slot_name(r->download.slot), r->download.image.counter, r->download.verified,
		       r->download.image.size);
	else
		printf("  download: none\n");
	printf("  events: %u queued, %" PRIu32 " dropped, next seq %" PRIu32 "\n", r->event_count,
	       r->events_dropped, r->next_event_seq);
	for (unsigned i = 0; i < r->event_count; i++)
		printf("    #%" PRIu32 " type %u reason %u code %d counter %" PRIu64
		       " time %" PRIu64 "\n",
		       r->events[i].seq, r->events[i].type, r->events[i].reason, r->events[i].code,
		       r->events[i].counter, r->events[i].time);
}

static int cmd_status(struct fwc_port *port)
{
	uint8_t pub[32];
	char hex[65];

	static const char *const status[] = {"both copies valid", "one copy valid",
	                                     "blank (factory state)", "CORRUPT (factory state)"};
	struct fwc_agent_store *st = &agent.store;

	if (fwc_port_device_pubkey(port, pub) == FWC_OK &&
	    fwc_hex_encode(hex, sizeof(hex), pub, 32) == FWC_OK)
		printf("device key: bip340:%s\n", hex);
	fwc_agent_store_load(st, port, 0);
	printf("record: %s; copy 0 %s, copy 1 %s\n", status[st->status & 3],
	       (st->valid_mask & 1) ? "valid" : "invalid",
	       (st->valid_mask & 2) ? "valid" : "invalid");
	print_record(&st->cur);
	return 0;
}

static int cmd_boot(struct fwc_port *port, const struct fwc_agent_provision *prov)
{
	for (int reset = 0; reset < MAX_RESETS; reset++) {
		uint8_t slot;
		int rc = fwc_posix_power_on(&agent, &slot, port, prov);

		if (rc < 0) {
			fprintf(stderr, "fwagent: power-on failed: %s\n", fwc_strerror(rc));
			return 1;
		}
		printf("power on: running slot %s, state %s\n", slot_name(slot),
		       fwc_agent_state_name(fwc_agent_state(&agent)));
		for (int i = 0; i < MAX_STEPS; i++) {
			enum fwc_agent_state s = fwc_agent_step(&agent);
			int err = fwc_agent_last_error(&agent);

			printf("  -> %s%s%s\n", fwc_agent_state_name(s), err ? ": " : "",
			       err ? fwc_strerror(err) : "");
			if (s == FWC_AGENT_IDLE) {
				print_record(fwc_agent_record(&agent));
				return 0;
			}
			if (port->reboot_requested)
				break;
		}
		if (!port->reboot_requested) {
			fprintf(stderr, "fwagent: agent did not settle in %d steps\n", MAX_STEPS);
			return 1;
		}
	}
	fprintf(stderr, "fwagent: still rebooting after %d resets\n", MAX_RESETS);
	return 1;
}

/* Provision prov from a trust file: the chain, validators, quorum and maximum age, and the key
 * sets of product (NULL: the file's only product). */
static int load_trust(struct fwc_agent_provision *prov, const char *path, const char *product)
{
	const struct fwc_trust_product *p = NULL;
	struct fwc_errinfo ei = {0, ""};
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	n = fread(trust_text, 1, sizeof(trust_text), f);
	fclose(f);
	if ((rc = fwc_trust_parse(&trust_file, trust_text, n, &ei)) < 0) {
		fprintf(stderr, "fwagent: %s: %s: %s\n", path, fwc_strerror(rc), ei.msg);
		return -1;
	}
	if (product != NULL)
		p = fwc_trust_product_find(&trust_file, product, strlen(product));
	else if (trust_file.n_products == 1)
		p = &trust_file.products[0];
	if (p == NULL) {
		fprintf(stderr, "fwagent: %s: %s\n", path,
		        product ? "no such product" : "name the product with --product");
		return -1;
	}
	if (trust_file.n_validators > FWC_AGENT_MAX_VALIDATORS) {
		fprintf(stderr, "fwagent: %s: more validators than the agent takes\n", path);
		return -1;
	}
	trust.chain_id = trust_file.origin;
	trust.chain_id_len = trust_file.origin_len;
	trust.validators = trust_file.validators;
	trust.n_validators = trust_file.n_validators;
	trust.quorum = trust_file.quorum;
	trust.max_age = trust_file.max_age;
	trust.root = p->has_root ? &p->root : NULL;
	trust.root_version = 1;
	trust.release = p->has_release ? &p->release : NULL;
	prov->trust = &trust;
	prov->id.product = p->id;
	prov->id.product_len = p->id_len;
	return 0;
}

static int cmd_factory(struct fwc_port *port, const char *path)
{
	static uint8_t img[32u << 20];
	size_t n;
	FILE *f = fopen(path, "rb");
	int rc;

	if (f == NULL) {
		perror(path);
		return 1;
	}
	n = fread(img, 1, sizeof(img), f);
	fclose(f);
	rc = fwc_posix_factory_write(port, FWC_SLOT_A, img, n);
	if (rc < 0) {
		fprintf(stderr, "fwagent: %s\n", fwc_strerror(rc));
		return 1;
	}
	printf("slot A: %zu bytes programmed\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	struct fwc_agent_provision prov = {0};
	struct fwc_port port;
	int rc;

	if (argc < 3)
		return usage();
	if (strcmp(argv[1], "format") == 0) {
		unsigned long long size, unit = 4096;

		if (argc < 4 || argc > 5)
			return usage();
		size = strtoull(argv[3], NULL, 0);
		if (argc == 5)
			unit = strtoull(argv[4], NULL, 0);
		rc = fwc_posix_format(argv[2], size, (uint32_t)unit);
		if (rc < 0) {
			fprintf(stderr, "fwagent: format: %s\n", fwc_strerror(rc));
			return 1;
		}
		return 0;
	}
	if ((rc = fwc_posix_open(&port, argv[2])) < 0) {
		fprintf(stderr, "fwagent: %s: %s\n", argv[2], fwc_strerror(rc));
		return 1;
	}
	if (strcmp(argv[1], "status") == 0 && argc == 3) {
		rc = cmd_status(&port);
	} else if (strcmp(argv[1], "factory") == 0 && argc == 4) {
		rc = cmd_factory(&port, argv[3]);
	} else if (strcmp(argv[1], "boot") == 0) {
		const char *trust_path = NULL, *product = NULL, *opt;

		rc = 0;
		prov.id.channel = "stable";
		prov.id.channel_len = 6;
		for (int i = 3; i < argc && rc == 0; i++) {
			opt = argv[i];
			if (strcmp(opt, "--no-clock") == 0) {
				port.no_clock = true;
				continue;
			}
			if (i + 1 >= argc) {
				rc = usage();
				break;
			}
			if (strcmp(opt, "--floor") == 0) {
				prov.factory_floor = strtoull(argv[++i], NULL, 0);
			} else if (strcmp(opt, "--health") == 0 &&
			           strlen(argv[i + 1]) < sizeof(port.health_cmd)) {
				strcpy(port.health_cmd, argv[++i]);
			} else if (strcmp(opt, "--trust") == 0) {
				trust_path = argv[++i];
			} else if (strcmp(opt, "--product") == 0) {
				product = argv[++i];
			} else if (strcmp(opt, "--node") == 0) {
				prov.node_url = argv[++i];
				prov.node_url_len = strlen(prov.node_url);
			} else if (strcmp(opt, "--gateway") == 0) {
				prov.gateway_url = argv[++i];
				prov.gateway_url_len = strlen(prov.gateway_url);
			} else if (strcmp(opt, "--hw") == 0) {
				prov.id.hwid = argv[++i];
				prov.id.hwid_len = strlen(prov.id.hwid);
			} else if (strcmp(opt, "--channel") == 0) {
				prov.id.channel = argv[++i];
				prov.id.channel_len = strlen(prov.id.channel);
			} else {
				rc = usage();
			}
		}
		if (rc == 0 && trust_path != NULL &&
		    (prov.node_url == NULL || prov.id.hwid == NULL)) {
			fprintf(stderr, "fwagent: --trust needs --node and --hw\n");
			rc = 2;
		}
		if (rc == 0 && trust_path != NULL && load_trust(&prov, trust_path, product) < 0)
			rc = 1;
		if (rc == 0)
			rc = cmd_boot(&port, &prov);
	} else {
		rc = usage();
	}
	fwc_posix_close(&port);
	return rc;
}
