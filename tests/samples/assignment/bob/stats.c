#include <stdio.h>
#include <stdlib.h>
#include "stats.h"

static int ascending(const void *left, const void *right) {
    int x = *(const int *)left, y = *(const int *)right;
    return (x > y) - (x < y);
}

void report(int values[], int count) {
    qsort(values, count, sizeof values[0], ascending);
    int middle = count / 2;
    double median = count % 2 ? values[middle] : (values[middle - 1] + values[middle]) * 0.5;

    int mode = values[0], mode_length = 0;
    int start = 0;
    while (start < count) {
        int end = start;
        while (end < count && values[end] == values[start]) end++;
        if (end - start > mode_length) {
            mode_length = end - start;
            mode = values[start];
        }
        start = end;
    }
    printf("median: %.1f\n", median);
    printf("mode: %d\n", mode);
}
