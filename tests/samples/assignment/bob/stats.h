#ifndef STATS_H
#define STATS_H

/* Prints the median and the mode of values[0..count-1]; sorts values. */
void report(int values[], int count);

#endif
