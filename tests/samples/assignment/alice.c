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

/* Insertion sort, ascending. */
static void sort_values(int values[], int count) {
    for (int i = 1; i < count; i++) {
        int key = values[i];
        int j = i - 1;
        while (j >= 0 && values[j] > key) {
            values[j + 1] = values[j];
            j--;
        }
        values[j + 1] = key;
    }
}

/* The longest run of equal values in a sorted array; the smallest value wins a tie. */
static int most_frequent(const int sorted[], int count) {
    int best = sorted[0], best_run = 1, run = 1;
    for (int i = 1; i < count; i++) {
        run = sorted[i] == sorted[i - 1] ? run + 1 : 1;
        if (run > best_run) {
            best_run = run;
            best = sorted[i];
        }
    }
    return best;
}

void report(int values[], int count) {
    sort_values(values, count);
    double median;
    if (count % 2 == 1) {
        median = values[count / 2];
    } else {
        median = (values[count / 2 - 1] + values[count / 2]) / 2.0;
    }
    printf("median: %.1f\n", median);
    printf("mode: %d\n", most_frequent(values, count));
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
