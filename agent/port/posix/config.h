/* fwagent configuration file (`fwagent-config/v1`): what a provisioned POSIX device needs to
 * run the agent — its node and gateway, identity, device directory, key and trust anchors, and
 * the poll schedule. Byte-level format: docs/formats/agent-config.md. Internal to the fwagent
 * tool (agent/port/posix). */
#ifndef FWAGENT_POSIX_CONFIG_H
#define FWAGENT_POSIX_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define AGENT_CONFIG_MAX_LEN 8192  /* bytes of a configuration file */
#define AGENT_CONFIG_VALUE_MAX 200 /* bytes of one value (a URL: FWC_AGENT_URL_MAX) */
#define AGENT_CONFIG_PATH_MAX 512  /* a path after joining it with the file's folder */

struct agent_config {
	char node[AGENT_CONFIG_VALUE_MAX + 1];
	char gateway[AGENT_CONFIG_VALUE_MAX + 1]; /* "": the node */
	char product[AGENT_CONFIG_VALUE_MAX + 1];
	char hwid[AGENT_CONFIG_VALUE_MAX + 1];
	char channel[AGENT_CONFIG_VALUE_MAX + 1];    /* default "stable" */
	char device_dir[AGENT_CONFIG_PATH_MAX];      /* resolved against the file's folder */
	char key[AGENT_CONFIG_PATH_MAX];             /* "": <device_dir>/device.key */
	char passphrase_file[AGENT_CONFIG_PATH_MAX]; /* "": $FWAGENT_PASSPHRASE */
	char trust[AGENT_CONFIG_PATH_MAX];
	uint64_t root_version;  /* version of the trust file's root set (default 1) */
	uint64_t floor;         /* factory release-counter floor (default 0) */
	uint64_t slot_size;     /* to format a missing device directory (default 0: do not) */
	uint64_t erase_unit;    /* default 4096 */
	uint64_t poll_interval; /* seconds between check-ins of `fwagent run` (default 3600) */
	uint64_t poll_jitter;   /* up to this many seconds added at random (default 300) */
};

/* Parse text[0..len) (a configuration file whose folder is base_dir, for relative paths).
 * *cfg is written only on success. On failure returns a negative enum fwc_err and writes a
 * one-line message naming the line into err[0..errcap). */
int agent_config_parse(struct agent_config *cfg, const char *text, size_t len, const char *base_dir,
                       char *err, size_t errcap);

/* Read and parse the file at path. Same returns as agent_config_parse (plus FWC_ERR_IO). */
int agent_config_load(struct agent_config *cfg, const char *path, char *err, size_t errcap);

#endif
