/* fwchaind entry point (being built). */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "fwchaind: not yet\n");
	return 1;
}
