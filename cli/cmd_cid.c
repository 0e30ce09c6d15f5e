/* placeholder until the cid APIs land */
#include "commands.h"
#include "util.h"
int cmd_cid(int argc, char **argv)
{
	return cli_err("cid", "not available yet");
}
