/*
 * The main() every Check program shares: run the suite, report, and turn
 * the result into the exit status automake reads.
 */
#ifndef CB_SUITE_H
#define CB_SUITE_H

#include <check.h>

int		 suite_run(Suite *);

#endif /* CB_SUITE_H */
