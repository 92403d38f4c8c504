/* base/clock.h: the monotonic clock for timeouts and durations, and sleeping. */
#ifndef ROMFS_CLOCK_H
#define ROMFS_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC: an arbitrary origin, never goes back, not wall time. */
int64_t romfs_now_ms(void);

/* The same clock in seconds, with sub-millisecond resolution (for measuring durations). */
double romfs_now_s(void);

/* Milliseconds from now until deadline (a romfs_now_ms() value): 0 when it has passed,
 * at most INT32_MAX, so the result can be handed to poll(). */
int romfs_ms_until(int64_t deadline);

/* Sleep ms milliseconds (nothing for ms <= 0), resuming after signal interruptions. */
void romfs_sleep_ms(int64_t ms);

#endif
