/*
 * Random-input driver for insole_protocol under AddressSanitizer and
 * UndefinedBehaviorSanitizer (tests/test_protocol_c.py builds and runs it):
 *
 *   cc -std=c99 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
 *      -I.. sanitize_driver.c ../insole_protocol.c -o driver && ./driver 200000
 *
 * Every output buffer is allocated with exactly the capacity passed to the
 * library, so a write past it is caught. The driver also checks invariants
 * of the library's own outputs: every frame's CRC, sizes never above the
 * maximum, and the state fields staying in range. Exit status 0 means every
 * iteration passed; 1 names the first broken invariant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "insole_protocol.h"

static uint64_t state = 0x9E3779B97F4A7C15u;

static uint64_t next(void)
{
    /* xorshift64* */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1Du;
}

static unsigned below(unsigned n)
{
    return (unsigned)(next() % n);
}

static int fail(const char *what, unsigned long iteration)
{
    fprintf(stderr, "iteration %lu: %s\n", iteration, what);
    return 1;
}

static int frame_ok(const uint8_t *frame, size_t len)
{
    return len >= 3 && (uint16_t)(frame[len - 2] | (frame[len - 1] << 8)) == insole_crc16(frame, len - 2);
}

int main(int argc, char **argv)
{
    unsigned long iterations = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000ul;
    insole_device_t *dev = malloc(sizeof *dev);
    uint64_t now = 0;
    unsigned long i, packets = 0, tares = 0;
    unsigned long statuses[5] = {0, 0, 0, 0, 0};

    if (dev == NULL || !insole_device_init(dev, 1, 0x20241A2Cu, 1, 2, 3, 6000, true)) {
        return fail("init", 0);
    }
    for (i = 0; i < iterations; ++i) {
        unsigned event = below(12);
        size_t cap = below(3) == 0 ? below(INSOLE_MAX_PACKET_SIZE + 2) : INSOLE_MAX_PACKET_SIZE;
        uint8_t *out = malloc(cap ? cap : 1);
        size_t len = 0;
        now += below(20000);
        if (out == NULL) {
            return fail("malloc", i);
        }
        if (event <= 3) { /* a control write: a valid frame with random bytes, or noise */
            size_t n = below(2) ? 5 + below(4) : below(12);
            uint8_t *command = malloc(n ? n : 1);
            uint8_t actions = 0;
            size_t k;
            for (k = 0; k < n; ++k) {
                command[k] = (uint8_t)next();
            }
            if (n >= 3 && below(2)) {
                command[0] = 1;
                command[1] = (uint8_t)(below(3) == 0 ? INSOLE_OP_START_STREAMING : 1 + below(8));
                if (n >= 5) {
                    uint16_t crc = insole_crc16(command, n - 2);
                    command[n - 2] = (uint8_t)(crc & 0xFF);
                    command[n - 1] = (uint8_t)(crc >> 8);
                }
            }
            len = insole_device_handle_command(dev, n ? command : NULL, n, now, out, cap, &actions);
            free(command);
            if (len && (len > INSOLE_MAX_REPLY_SIZE || len > cap || !frame_ok(out, len) || !(out[1] & 0x80) ||
                        out[3] > INSOLE_STATUS_MTU_TOO_SMALL)) {
                return fail("reply", i);
            }
            if (len) {
                statuses[out[3]]++;
            }
        } else if (event <= 6) { /* a sample */
            uint16_t codes[INSOLE_N_SENSORS];
            int16_t imu[INSOLE_N_IMU_AXES];
            unsigned k;
            for (k = 0; k < INSOLE_N_SENSORS; ++k) {
                codes[k] = below(10) == 0 ? INSOLE_SATURATED_CODE : (uint16_t)next();
            }
            for (k = 0; k < INSOLE_N_IMU_AXES; ++k) {
                imu[k] = (int16_t)(uint16_t)next();
            }
            len = insole_device_add_sample(dev, codes, below(2) ? imu : NULL, out, cap);
            if (len && (len > INSOLE_MAX_PACKET_SIZE || len > cap || !frame_ok(out, len) ||
                        len != insole_packet_size(out[3], (out[16] & INSOLE_FLAG_IMU_PRESENT) != 0))) {
                return fail("packet", i);
            }
            packets += len != 0;
        } else if (event == 7) {
            len = insole_device_poll(dev, now, out, cap);
            if (len && (len != 6 || !frame_ok(out, len))) {
                return fail("tare reply", i);
            }
            tares += len != 0;
        } else if (event == 8) {
            insole_device_set_att_mtu(dev, (uint16_t)(below(2) ? 247 : below(300)));
            insole_device_set_data_notify(dev, below(4) != 0);
        } else if (event == 9) {
            if (below(8) == 0) {
                insole_device_on_disconnect(dev);
                insole_device_on_connect(dev);
            } else {
                insole_device_packet_discarded(dev);
            }
        } else if (event == 10) { /* the codec alone, with random arguments and capacity */
            uint16_t codes[7 * INSOLE_N_SENSORS];
            int16_t imu[5 * INSOLE_N_IMU_AXES];
            memset(codes, 0xA5, sizeof codes);
            memset(imu, 0x5A, sizeof imu);
            len = insole_encode_sample_packet(out, cap, (uint8_t)below(3), (uint8_t)below(4), (uint8_t)below(9),
                                              (uint32_t)next(), next(), (uint16_t)next(), codes,
                                              below(2) ? imu : NULL);
            if (len && (len > cap || !frame_ok(out, len))) {
                return fail("encode_sample_packet", i);
            }
            len = insole_encode_info_reply(out, cap, (uint8_t)next(), (uint8_t)below(3), (uint32_t)next(),
                                           (uint8_t)next(), 1, 2, 3, (uint8_t)below(4), (uint8_t)below(9),
                                           (uint8_t)below(9), (uint16_t)next());
            if (len && (len != 20 || len > cap || !frame_ok(out, len))) {
                return fail("encode_info_reply", i);
            }
            len = insole_encode_advertising_data(out, cap, (uint8_t)below(3), (uint32_t)next(), (uint8_t)next());
            if (len && (len != 31 || len > cap)) {
                return fail("encode_advertising_data", i);
            }
            len = insole_encode_scan_response(out, cap, (uint8_t)below(3), (uint32_t)next());
            if (len && (len != 15 || len > cap)) {
                return fail("encode_scan_response", i);
            }
            len = insole_local_name((char *)out, cap, (uint8_t)below(3), (uint32_t)next());
            if (len && (len != 13 || len >= cap || out[13] != 0)) {
                return fail("local_name", i);
            }
        } else {
            insole_device_configure(dev, (uint8_t)below(4), (uint8_t)below(9), below(2) != 0);
        }
        free(out);
        if (dev->pending >= dev->samples_per_packet ||
            dev->samples_per_packet > insole_max_samples_per_packet(dev->imu_enabled) ||
            insole_period_us(dev->rate_code) == 0 || (dev->imu_enabled && !dev->imu_present)) {
            return fail("device state out of range", i);
        }
    }
    printf("%lu iterations passed: %lu packets, %lu tares, replies OK %lu BAD_COMMAND %lu BAD_ARGUMENT %lu "
           "BUSY %lu MTU_TOO_SMALL %lu\n",
           iterations, packets, tares, statuses[0], statuses[1], statuses[2], statuses[3], statuses[4]);
    free(dev);
    return 0;
}
