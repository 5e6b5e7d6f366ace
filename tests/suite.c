/*
 * Runs one Check suite: the shared body of every test program's main().
 */
#include "autoconf.h"

#include <stdlib.h>

#include "suite.h"

/* Runs every test of s; EXIT_SUCCESS only if none failed. */
int
suite_run(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
