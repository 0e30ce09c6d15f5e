/* fwagent — a device simulated in a directory, driven from the command line.
 *
 *   fwagent format DIR SLOT_SIZE [ERASE_UNIT]   create the device (slots erased, no record)
 *   fwagent factory DIR IMAGE                   program IMAGE into slot A (manufacturing)
 *   fwagent status DIR | --config FILE          print both record copies and the state in use
 *   fwagent boot DIR [--floor N] [--health CMD] [--no-clock]
 *                [--trust FILE --node URL --hw ID [--product ID] [--channel NAME]
 *                 [--gateway URL]]                  power on and run the agent until it is idle
 *   fwagent check --config FILE [options]       one cycle of a provisioned device
 *   fwagent run --config FILE [options]         poll: a cycle, then sleep interval + jitter
 *   fwagent sim --devices N ...                 a fleet of memory-backed devices (sim.c)
 *
 * `boot` runs the boot selection and the agent's state machine; when the agent asks for a
 * reboot it powers on again (at most 16 times), so one call goes through a check-in, download,
 * install, trial boot and confirmation or rollback. The device checks in only when it is
 * provisioned: --trust names a trust anchors file (docs/formats/trust.md), --node the node's
 * base URL, --hw the hardware id; the product is the trust file's only one unless --product
 * names it, the channel "stable" unless --channel does. `check` and `run` take all of that
 * from a configuration file (docs/formats/agent-config.md, written by `fwchain device
 * provision`); `run` keeps one agent context across cycles, as a device does, and stops on
 * SIGTERM or SIGINT, after --cycles cycles or after --for seconds. This is the product build
 * of the core (no test entry point). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "fwchain/hex.h"
#include "fwchain/trust.h"
#include "port_posix.h"
#include "tool.h"

int sim_main(int argc, char **argv); /* sim.c */

static struct fwc_agent agent; /* 30 KiB: static, as on a device */
static struct tool_trust trust;
static struct agent_config config;
static volatile sig_atomic_t stop_requested;

static int usage(void)
{
	fprintf(stderr,
	        "usage: fwagent format DIR SLOT_SIZE [ERASE_UNIT]\n"
	        "       fwagent factory DIR IMAGE\n"
	        "       fwagent status DIR | --config FILE\n"
	        "       fwagent check --config FILE [--health CMD] [--no-clock] [--trace]\n"
	        "                     [--readahead BYTES] [--no-sync]\n"
	        "       fwagent run --config FILE [--cycles N] [--for SECONDS]\n"
	        "                   [--interval S] [--jitter S] [--health CMD] [--no-clock]\n"
	        "                   [--trace] [--readahead BYTES] [--no-sync]\n"
	        "       fwagent sim --devices N --node URL --trust FILE --hw ID ... "
	        "(fwagent sim --help)\n"
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
	struct tool_cycle c;
	bool powered = false;

	if (tool_cycle_run(&c, &agent, &powered, port, prov, 1) < 0)
		return 1;
	print_record(fwc_agent_record(&agent));
	return 0;
}

/* Provision prov from a trust file (see tool_trust_load), the root set at version 1. */
static int load_trust(struct fwc_agent_provision *prov, const char *path, const char *product)
{
	char err[300];

	if (tool_trust_load(&trust, prov, path, product, 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "fwagent: %s\n", err);
		return -1;
	}
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

/* ---- configured devices: check, run, status --config ------------------------------------ */

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Open the device a configuration file describes (formatting its folder when it has none and
 * the file gives a slot size), with its key, trust anchors and identity in prov. */
static int open_configured(struct fwc_port *port, struct fwc_agent_provision *prov,
                           const char *path)
{
	char err[400], geo[AGENT_CONFIG_PATH_MAX + 16];
	struct stat st;
	int rc;

	if ((rc = agent_config_load(&config, path, err, sizeof(err))) < 0) {
		fprintf(stderr, "fwagent: %s: %s: %s\n", path, fwc_strerror(rc), err);
		return -1;
	}
	snprintf(geo, sizeof(geo), "%s/geometry", config.device_dir);
	if (stat(geo, &st) != 0) {
		if (config.slot_size == 0) {
			fprintf(stderr,
			        "fwagent: %s: no device there and no slot-size to make one\n",
			        config.device_dir);
			return -1;
		}
		if ((rc = fwc_posix_format_slots(config.device_dir, config.slot_size,
		                                 (uint32_t)config.erase_unit)) < 0) {
			fprintf(stderr, "fwagent: %s: format: %s\n", config.device_dir,
			        fwc_strerror(rc));
			return -1;
		}
	}
	if ((rc = fwc_posix_open(port, config.device_dir)) < 0) {
		fprintf(stderr, "fwagent: %s: %s\n", config.device_dir, fwc_strerror(rc));
		return -1;
	}
	if (config.key[0] != '\0' &&
	    tool_key_load(port, config.key, config.passphrase_file, err, sizeof(err)) < 0) {
		fprintf(stderr, "fwagent: %s\n", err);
		goto fail;
	}
	if (!port->have_key) {
		fprintf(stderr, "fwagent: %s: no device key (device.key, or 'key' in %s)\n",
		        config.device_dir, path);
		goto fail;
	}
	if (tool_trust_load(&trust, prov, config.trust, config.product, config.root_version, err,
	                    sizeof(err)) < 0) {
		fprintf(stderr, "fwagent: %s\n", err);
		goto fail;
	}
	prov->factory_floor = config.floor;
	prov->node_url = config.node;
	prov->node_url_len = strlen(config.node);
	if (config.gateway[0] != '\0') {
		prov->gateway_url = config.gateway;
		prov->gateway_url_len = strlen(config.gateway);
	}
	prov->id.hwid = config.hwid;
	prov->id.hwid_len = strlen(config.hwid);
	prov->id.channel = config.channel;
	prov->id.channel_len = strlen(config.channel);
	return 0;
fail:
	fwc_posix_close(port);
	return -1;
}

/* One line about a cycle: what changed between the records before and after it. Returns 0
 * when nothing went wrong (an update confirmed, or nothing to do), 1 otherwise. */
static int cycle_report(const struct fwc_agent_record *before, const struct tool_cycle *c)
{
	const struct fwc_agent_record *r = fwc_agent_record(&agent);
	time_t now = time(NULL);
	char when[32];
	int bad = !c->settled;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	printf("%s ", when);
	if (!c->settled)
		printf("cycle did not finish: %s", fwc_strerror(c->last_err));
	else if (r->active.counter > before->active.counter)
		printf("updated: counter %" PRIu64 " -> %" PRIu64 " (slot %s, %" PRIu64 " bytes)",
		       before->active.counter, r->active.counter, slot_name(r->active_slot),
		       r->active.size);
	else if (r->next_event_seq != before->next_event_seq) {
		printf("no update installed: an event was queued (see status)");
		bad = 1;
	} else if (c->last_err == FWC_ERR_NOT_FOUND || c->last_err == FWC_OK)
		printf("up to date: counter %" PRIu64, r->active.counter);
	else {
		printf("check-in failed: %s", fwc_strerror(c->last_err));
		bad = 1;
	}
	printf("; floor %" PRIu64 ", %u event%s queued\n", r->floor, r->event_count,
	       r->event_count == 1 ? "" : "s");
	fflush(stdout);
	return bad;
}

static void record_before(struct fwc_agent_record *out, struct fwc_port *port, bool powered)
{
	if (powered) {
		*out = *fwc_agent_record(&agent);
	} else {
		fwc_agent_store_load(&agent.store, port, 0);
		*out = agent.store.cur;
	}
}

/* check and run: options after the command name. */
static int cmd_configured(int argc, char **argv, bool run)
{
	struct fwc_agent_provision prov = {0};
	struct fwc_agent_record before;
	struct fwc_port port;
	const char *path = NULL, *health = NULL;
	unsigned long long cycles = run ? 0 : 1, interval = 0, jitter = 0, for_s = 0,
	                   readahead = 262144;
	bool no_clock = false, no_sync = false, powered = false, have_interval = false,
	     have_jitter = false;
	int trace = 0;
	int bad = 0;
	double start;

	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];

		if (strcmp(o, "--no-clock") == 0) {
			no_clock = true;
		} else if (strcmp(o, "--no-sync") == 0) {
			no_sync = true;
		} else if (strcmp(o, "--trace") == 0) {
			trace = 2;
		} else if (i + 1 >= argc) {
			return usage();
		} else if (strcmp(o, "--config") == 0 || strcmp(o, "-c") == 0) {
			path = argv[++i];
		} else if (strcmp(o, "--health") == 0) {
			health = argv[++i];
		} else if (strcmp(o, "--readahead") == 0) {
			readahead = strtoull(argv[++i], NULL, 10);
		} else if (run && strcmp(o, "--cycles") == 0) {
			cycles = strtoull(argv[++i], NULL, 10);
		} else if (run && strcmp(o, "--for") == 0) {
			for_s = strtoull(argv[++i], NULL, 10);
		} else if (run && strcmp(o, "--interval") == 0) {
			interval = strtoull(argv[++i], NULL, 10);
			have_interval = true;
		} else if (run && strcmp(o, "--jitter") == 0) {
			jitter = strtoull(argv[++i], NULL, 10);
			have_jitter = true;
		} else {
			return usage();
		}
	}
	if (path == NULL)
		return usage();
	if (open_configured(&port, &prov, path) < 0)
		return 1;
	port.no_clock = no_clock;
	port.sync = !no_sync;
	port.readahead = (size_t)(readahead > (64u << 20) ? (64u << 20) : readahead);
	if (health != NULL) {
		if (strlen(health) >= sizeof(port.health_cmd)) {
			fprintf(stderr, "fwagent: --health: command too long\n");
			fwc_posix_close(&port);
			return 2;
		}
		strcpy(port.health_cmd, health);
	}
	if (!have_interval)
		interval = config.poll_interval;
	if (!have_jitter)
		jitter = config.poll_jitter;
	if (run) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	start = tool_now();
	for (unsigned long long n = 0; !stop_requested; n++) {
		struct tool_cycle c;
		double wait, until;
		uint32_t r = 0;

		record_before(&before, &port, powered);
		tool_cycle_run(&c, &agent, &powered, &port, &prov, trace);
		bad |= cycle_report(&before, &c);
		if (!c.settled)
			powered =
			    false; /* start again from the record, as after a watchdog reset */
		if ((cycles != 0 && n + 1 >= cycles) ||
		    (for_s != 0 && tool_now() - start >= (double)for_s))
			break;
		/* sleep interval + jitter, in slices, so SIGTERM ends it at once */
		fwc_port_random(&port, (uint8_t *)&r, sizeof(r));
		wait = (double)interval +
		       (jitter ? (double)(r % (uint32_t)(jitter * 1000 + 1)) / 1000.0 : 0.0);
		until = tool_now() + wait;
		if (for_s != 0 && until > start + (double)for_s)
			until = start + (double)for_s;
		while (!stop_requested && tool_now() < until) {
			struct timespec ts = {0, 50 * 1000 * 1000};

			nanosleep(&ts, NULL);
		}
		if (for_s != 0 && tool_now() - start >= (double)for_s)
			break;
	}
	if (stop_requested)
		printf("stopped by signal\n");
	fwc_posix_close(&port);
	return run ? 0 : bad;
}

int main(int argc, char **argv)
{
	struct fwc_agent_provision prov = {0};
	struct fwc_port port;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "sim") == 0)
		return sim_main(argc, argv);
	if (argc < 3)
		return usage();
	if (strcmp(argv[1], "check") == 0)
		return cmd_configured(argc, argv, false);
	if (strcmp(argv[1], "run") == 0)
		return cmd_configured(argc, argv, true);
	if (strcmp(argv[1], "status") == 0 && argc == 4 &&
	    (strcmp(argv[2], "--config") == 0 || strcmp(argv[2], "-c") == 0)) {
		if (open_configured(&port, &prov, argv[3]) < 0)
			return 1;
		printf("config: %s\nnode: %s\nproduct: %s, hardware %s, channel %s\ndevice: %s\n",
		       argv[3], config.node, config.product, config.hwid, config.channel,
		       config.device_dir);
		rc = cmd_status(&port);
		fwc_posix_close(&port);
		return rc;
	}
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
