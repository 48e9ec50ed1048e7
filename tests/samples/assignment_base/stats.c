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

/* TODO: print the median and the mode of values[0..count-1]. */
void report(int values[], int count);

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
