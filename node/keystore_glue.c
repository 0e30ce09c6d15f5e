/* Interim: libfwchain's keystore (branch keys) has not landed on main yet, so this build cannot
 * write an encrypted keystore and says so; node_datadir_open then reports that the admin key was
 * not saved. Replaced by a call to fwc_keystore_save() once include/fwchain/keystore.h exists. */
#include "keystore_glue.h"

int node_keystore_save(const char *path, const struct fwc_seckey *sk, const char *pass,
                       size_t passlen, struct fwc_errinfo *ei)
{
	(void)sk;
	(void)pass;
	(void)passlen;
	return fwc_fail(ei, 0, FWC_ERR_UNSUPPORTED, "%s: this build has no keystore support", path);
}
