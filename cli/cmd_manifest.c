/* placeholder until the manifest APIs land */
#include "commands.h"
#include "util.h"
int cmd_manifest(int argc, char **argv)
{
	return cli_err("manifest", "not available yet");
}
