/*
 * Runs a fuzz target over files, without libFuzzer: how make check
 * replays each target's corpus (seeds and every past finding), and how a
 * crash file is reproduced under a debugger.  With no arguments it reads
 * $FUZZ_CORPUS_ROOT/<target>/, the target named by the program's own name
 * (replay_<target>).
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	replay_file(const char *);
static int	replay_dir(const char *);

int
main(int argc, char *argv[])
{
	char		 dir[PATH_MAX], self[PATH_MAX];
	const char	*root, *name;
	int		 i, n = 0;

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			n += replay_file(argv[i]);
		printf("%d passed, 0 failed\n", n);
		return (0);
	}
	if ((root = getenv("FUZZ_CORPUS_ROOT")) == NULL) {
		fprintf(stderr, "FUZZ_CORPUS_ROOT is not set\n");
		return (77);
	}
	snprintf(self, sizeof(self), "%s", argv[0]);
	name = basename(self);
	if (strncmp(name, "replay_", 7) == 0)
		name += 7;
	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	if ((n = replay_dir(dir)) == 0) {
		fprintf(stderr, "no corpus in %s\n", dir);
		return (1);
	}
	printf("%s: %d passed, 0 failed\n", name, n);
	return (0);
}

/* Feeds every regular file of dir to the target; returns the count. */
static int
replay_dir(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	char		 path[PATH_MAX];
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		n += replay_file(path);
	}
	closedir(d);
	return (n);
}

static int
replay_file(const char *path)
{
	struct stat	 st;
	uint8_t		*buf;
	FILE		*f;
	size_t		 len;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (f = fopen(path, "rb")) == NULL)
		return (0);
	len = (size_t)st.st_size;
	if ((buf = malloc(len + 1)) == NULL ||
	    fread(buf, 1, len, f) != len) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return (1);
}
