#include <stdio.h>

/* Read n numbers and print them sorted ascending (bubble sort). */
int main(void) {
    int n, values[100];
    scanf("%d", &n);
    for (int i = 0; i < n; i++) {
        scanf("%d", &values[i]);
    }
    for (int pass = 0; pass < n - 1; pass++) {
        for (int j = 0; j < n - 1 - pass; j++) {
            if (values[j] > values[j + 1]) {
                int swap = values[j];
                values[j] = values[j + 1];
                values[j + 1] = swap;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        printf("%d ", values[i]);
    }
    printf("\n");
    return 0;
}
