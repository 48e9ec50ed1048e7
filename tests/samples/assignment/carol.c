// Assignment 3 -- median & mode
#include <stdio.h>
#include <stdlib.h>

#define MAX_VALUES 1000

int read_values(int values[], int capacity) {
    int count = 0;
    while (count < capacity && scanf("%d", &values[count]) == 1) {
        count++;
    }
    return count;
}

// finds the value that appears most often (array must be sorted)
static int find_mode(const int data[], int n) {
    int answer = data[0], longest = 1, streak = 1;
    for (int k = 1; k < n; k++) {
        streak = data[k] == data[k - 1] ? streak + 1 : 1;
        if (streak > longest) {
            longest = streak;
            answer = data[k];
        }
    }
    return answer;
}

// sorts the numbers from small to large
static void order(int data[], int n) {
    for (int a = 1; a < n; a++) {
        int current = data[a];
        int b = a - 1;
        while (b >= 0 && data[b] > current) {
            data[b + 1] = data[b];
            b--;
        }
        data[b + 1] = current;
    }
}

void report(int values[], int count) {
    order(values, count);
    double mid;
    if (count % 2 == 1) {
        mid = values[count / 2];
    } else {
        mid = (values[count / 2 - 1] + values[count / 2]) / 2.0;
    }
    printf("median: %.1f\n", mid);
    printf("mode: %d\n", find_mode(values, count));
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
