/* Assignment 3: median and mode.
 * Complete report() so that it prints the median and the mode of the values.
 * Do not change read_values() or main(). */
#include <stdio.h>
#include <stdlib.h>

#define MAX_VALUES 1000

/* Reads up to capacity integers from standard input; returns how many were read. */
int read_values(int values[], int capacity) {
    int count = 0;
    while (count < capacity && scanf("%d", &values[count]) == 1) {
        count++;
    }
    return count;
}

/* The k-th smallest value (0-based) by repeated selection; leaves the input unchanged. */
int kth_smallest(const int values[], int count, int k) {
    for (int i = 0; i < count; i++) {
        int below = 0, equal = 0;
        for (int j = 0; j < count; j++) {
            if (values[j] < values[i]) below++;
            else if (values[j] == values[i]) equal++;
        }
        if (below <= k && k < below + equal) return values[i];
    }
    return values[0];
}

void report(int values[], int count) {
    double median = kth_smallest(values, count, count / 2);
    if (count % 2 == 0) median = (median + kth_smallest(values, count, count / 2 - 1)) / 2;

    int mode = values[0], mode_count = 0;
    for (int i = 0; i < count; i++) {
        int seen = 0;
        for (int j = 0; j < count; j++) seen += values[j] == values[i];
        if (seen > mode_count || (seen == mode_count && values[i] < mode)) {
            mode = values[i];
            mode_count = seen;
        }
    }
    printf("median: %.1f\nmode: %d\n", median, mode);
}

int main(void) {
    int values[MAX_VALUES];
    int count = read_values(values, MAX_VALUES);
    if (count == 0) {
        printf("no input\n");
        return 1;
    }
    report(values, count);
    return 0;
}
