/* The generators' random numbers: splitmix64, from a seed each program
 * sets (RNG_SEED before including this), so every capture is the same
 * from run to run. */
#ifndef DR_BENCH_RNG_H
#define DR_BENCH_RNG_H

#include <stdint.h>

static uint64_t rng_state = RNG_SEED;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A number in [0, n). */
static uint32_t below(uint32_t n)
{
	return (uint32_t)(((rnd() >> 32) * n) >> 32);
}

#endif
