/* What the stand-in driver libraries (fake_nvml.c, fake_rocm_smi.c) share: reading a scenario file
 * (one fact a line, key=value tokens, numbers that may be ramps), answering a ramp's k-th call, and
 * logging each call to the file a variable names. Header-only: each stand-in is one shared object. */
#ifndef FAKE_SCENARIO_H_
#define FAKE_SCENARIO_H_

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* A number from the scenario: fixed (from == to) or a ramp over the first ten calls. */
struct Ramp {
  int present;
  double from, to;
};

/* Appends "<pid> <name>" to the file the variable names, when it is set. */
static inline void log_call_to(const char *variable, const char *name) {
  const char *path = getenv(variable);
  if (!path) return;
  FILE *log = fopen(path, "a");
  if (!log) return;
  fprintf(log, "%d %s\n", (int)getpid(), name);
  fclose(log);
}

/* Reads the next token: a bare word or key="quoted value". */
static inline char *next_token(char **cursor) {
  char *p = *cursor;
  while (*p == ' ' || *p == '\t') p++;
  if (!*p || *p == '\n' || *p == '#') return NULL;
  char *start = p, *out = p;
  int quoted = 0;
  while (*p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n'))) {
    if (*p == '"') { quoted = !quoted; p++; continue; }
    *out++ = *p++;
  }
  if (*p) p++;
  *out = '\0';
  *cursor = p;
  return start;
}

/* One non-negative number, decimal (fractions allowed) or 0x hex; the whole text must be it, so a
 * typo is ignored rather than read as a prefix. */
static inline int parse_number(const char *text, double *out) {
  char *end;
  if (*text < '0' || *text > '9') return 0; /* no sign, space, inf or nan */
  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    if (!isxdigit((unsigned char)text[2])) return 0; /* strtoull would take "-4" after "0x" */
    *out = (double)strtoull(text, &end, 16);
  } else {
    *out = strtod(text, &end);
  }
  return *end == '\0' && *out < 1e300;
}

/* A number or a ramp A..B. The text is split at ".." before parsing, since strtod would read the
 * first '.' of "10..90" as a decimal point. Left untouched when malformed. */
static inline void parse_ramp(const char *text, struct Ramp *ramp) {
  char copy[64];
  double from, to;
  if (strlen(text) >= sizeof copy) return;
  memcpy(copy, text, strlen(text) + 1);
  char *dots = strstr(copy, "..");
  if (dots) {
    *dots = '\0';
    if (!parse_number(copy, &from) || !parse_number(dots + 2, &to)) return;
  } else {
    if (!parse_number(copy, &from)) return;
    to = from;
  }
  ramp->present = 1;
  ramp->from = from;
  ramp->to = to;
}

static inline long long monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

/* The k-th answered call (k = 0, 1, ...) of a ramp A..B: A + (B - A) * min(k, 10) / 10. */
static inline double ramp_at(const struct Ramp *ramp, unsigned long long k) {
  if (k > 10) k = 10;
  return ramp->from + (ramp->to - ramp->from) * (double)k / 10.0;
}

/* Nearest integer, saturating: drivers answer whole units (percent, mW, MHz, bytes). */
static inline unsigned int to_uint(double value) {
  return value >= 4294967295.0 ? 0xFFFFFFFFu : (unsigned int)(value + 0.5);
}
static inline unsigned long long to_ull(double value) {
  return value >= 18446744073709551615.0 ? ~0ULL : (unsigned long long)(value + 0.5);
}

/* A whole decimal number no larger than max. */
static inline int parse_whole(const char *text, unsigned long long max, unsigned long long *out) {
  char *end;
  if (*text < '0' || *text > '9') return 0;
  errno = 0;
  *out = strtoull(text, &end, 10);
  return *end == '\0' && errno != ERANGE && *out <= max;
}

/* The file the variable names, opened for reading; NULL when unset or unreadable. */
static inline FILE *open_named_file(const char *variable) {
  const char *path = getenv(variable);
  return path ? fopen(path, "r") : NULL;
}

/* Hands each key=value token after the cursor to apply(target, key, value). */
static inline void read_fields(char *cursor, void *target, void (*apply)(void *, const char *, const char *)) {
  char *token;
  while ((token = next_token(&cursor))) {
    char *eq = strchr(token, '=');
    if (!eq) continue;
    *eq = '\0';
    apply(target, token, eq + 1);
  }
}

/* "lost_after_ms=N": a device that stops answering N ms after the first successful initialisation
 * of this process (CLOCK_MONOTONIC; kept across reloads of the scenario). */
struct Loss {
  int scheduled;
  long long after_ms;
};
static long long first_init_ns __attribute__((unused));

static inline void parse_loss(const char *text, struct Loss *loss) {
  double ms;
  if (!parse_number(text, &ms)) return;
  loss->scheduled = 1;
  loss->after_ms = ms > 1e12 ? (long long)1e12 : (long long)ms;
}

static inline void note_successful_init(void) {
  long long none = 0;
  __atomic_compare_exchange_n(&first_init_ns, &none, monotonic_ns(), 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static inline int loss_has_come(const struct Loss *loss) {
  if (!loss->scheduled) return 0;
  long long since = __atomic_load_n(&first_init_ns, __ATOMIC_SEQ_CST);
  return since && monotonic_ns() - since >= loss->after_ms * 1000000LL;
}

#endif /* FAKE_SCENARIO_H_ */
