#include <stdio.h>

int main(void) {
    int count, arr[100];
    scanf("%d", &count);
    for (int k = 0; k < count; k++) {
        scanf("%d", &arr[k]);
    }
    for (int round = 0; round < count - 1; round++) {
        for (int m = 0; m < count - 1 - round; m++) {
            if (arr[m] > arr[m + 1]) {
                int tmp = arr[m];
                arr[m] = arr[m + 1];
                arr[m + 1] = tmp;
            }
        }
    }
    for (int k = 0; k < count; k++) {
        printf("%d ", arr[k]);
    }
    printf("\n");
    return 0;
}
