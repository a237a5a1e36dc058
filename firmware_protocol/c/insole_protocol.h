/*
 * insole_protocol.h - the device side of the insole wire protocol, version 1.
 *
 * The normative text is firmware_protocol/PROTOCOL.md; this library follows it
 * byte for byte (tests/test_protocol_c.py checks every example of that file
 * and 100 000 random messages against the Python reference codec).
 *
 * Portable C99. No heap, no libc: it includes only <stdint.h>, <stddef.h> and
 * <stdbool.h>, which a freestanding compiler provides. Every function works on memory the caller owns; nothing
 * blocks, nothing reads a clock by itself: the firmware passes "now" in.
 * Not thread-safe: call it from one task (or guard it with one mutex).
 *
 * Two layers:
 *
 *   1. Codec: insole_encode_*() write one frame into a buffer and return its
 *      length (0 when an argument is out of range or the buffer is too small);
 *      insole_crc16() is the frame CRC.
 *
 *   2. Device: an insole_device_t holds everything the firmware must remember
 *      (settings, stream, sequence numbers, tare, clock-read flag) and turns
 *      BLE events into replies and sample packets:
 *
 *        static insole_device_t dev;                      // no heap
 *        insole_device_init(&dev, INSOLE_FOOT_LEFT, serial, 1, 0, 0, 6000, false);
 *        // BLE callbacks:
 *        insole_device_on_connect(&dev);
 *        insole_device_set_att_mtu(&dev, mtu);            // after the MTU exchange
 *        insole_device_set_data_notify(&dev, enabled);    // CCCD write on the data characteristic
 *        insole_device_on_disconnect(&dev);
 *        // control characteristic written:
 *        len = insole_device_handle_command(&dev, data, n, now_us, reply, sizeof reply, &actions);
 *        if (len) notify_control(reply, len);
 *        // sampling timer, at insole_device_next_sample_us(&dev):
 *        len = insole_device_add_sample(&dev, codes16, imu6_or_NULL, packet, sizeof packet);
 *        if (len && !notify_data(packet, len)) insole_device_packet_discarded(&dev);
 *        // main loop: finishes a TARE after its 0.3 s window
 *        len = insole_device_poll(&dev, now_us, reply, sizeof reply);
 *
 *   plus insole_clock_t, which widens a free-running 32-bit microsecond
 *   counter into the protocol's 64-bit device clock.
 *
 * All multi-byte fields are written little-endian with shifts, so the code is
 * correct on any host byte order.
 */
#ifndef INSOLE_PROTOCOL_H
#define INSOLE_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ constants */

#define INSOLE_PROTOCOL_VERSION 1u
#define INSOLE_N_SENSORS 16u          /* pressures per sample, insole16 layout order */
#define INSOLE_N_IMU_AXES 6u          /* accel x y z (mg), gyro x y z (0.1 deg/s) */
#define INSOLE_SATURATED_CODE 0xFFFFu /* pressure at or above full scale */
#define INSOLE_BATTERY_UNKNOWN 127u
#define INSOLE_LOW_BATTERY_PCT 15u    /* LOW_BATTERY flag at or below this */

#define INSOLE_SAMPLE_HEADER_SIZE 18u
#define INSOLE_CRC_SIZE 2u
#define INSOLE_MAX_PACKET_SIZE 244u   /* one LE data PDU with DLE: ATT MTU 247 */
#define INSOLE_MAX_COMMAND_SIZE 8u
#define INSOLE_MAX_REPLY_SIZE 20u
#define INSOLE_PREFERRED_ATT_MTU 247u
#define INSOLE_DEFAULT_ATT_MTU 23u
#define INSOLE_MAX_SAMPLES_NO_IMU 7u
#define INSOLE_MAX_SAMPLES_IMU 5u
#define INSOLE_TARE_WINDOW_US 300000u /* TARE averages this long before it replies */

#define INSOLE_MANUFACTURER_DATA_SIZE 6u /* after the 2-byte company id */
#define INSOLE_ADVERTISING_DATA_SIZE 31u
#define INSOLE_SCAN_RESPONSE_SIZE 15u
#define INSOLE_LOCAL_NAME_LEN 13u        /* "INSOLE-L-1A2B", without the NUL */
#define INSOLE_COMPANY_ID 0xFFFFu        /* SIG test id: a product MUST use its own */

/* Status flags of a sample packet (uint16). */
#define INSOLE_FLAG_IMU_PRESENT 0x0001u /* derived from the IMU data */
#define INSOLE_FLAG_SATURATED 0x0002u   /* derived from the pressure codes */
#define INSOLE_FLAG_LOW_BATTERY 0x0004u
#define INSOLE_FLAG_OVERRUN 0x0008u
#define INSOLE_FLAG_TARED 0x0010u
#define INSOLE_FLAG_CLOCK_READ 0x0020u

/* GET_INFO state byte. */
#define INSOLE_STATE_IMU_PRESENT 0x01u
#define INSOLE_STATE_IMU_ENABLED 0x02u
#define INSOLE_STATE_STREAMING 0x04u

/* 128-bit UUIDs (PROTOCOL.md section 3), as strings and as the little-endian
 * bytes NimBLE's BLE_UUID128_INIT() and Zephyr's BT_UUID_128_ENCODE() want. */
#define INSOLE_SERVICE_UUID_STR "241c0100-3441-480e-8302-54ca80305a37"
#define INSOLE_DATA_CHAR_UUID_STR "241c0101-3441-480e-8302-54ca80305a37"
#define INSOLE_CONTROL_CHAR_UUID_STR "241c0102-3441-480e-8302-54ca80305a37"
#define INSOLE_UUID128_LE(short16)                                                          \
    0x37, 0x5a, 0x30, 0x80, 0xca, 0x54, 0x02, 0x83, 0x0e, 0x48, 0x41, 0x34, (short16)&0xff, \
        ((short16) >> 8) & 0xff, 0x1c, 0x24
#define INSOLE_SERVICE_UUID16 0x0100u
#define INSOLE_DATA_CHAR_UUID16 0x0101u
#define INSOLE_CONTROL_CHAR_UUID16 0x0102u

typedef enum { INSOLE_FOOT_LEFT = 0, INSOLE_FOOT_RIGHT = 1 } insole_foot_t;

typedef enum {
    INSOLE_RATE_50_HZ = 0,
    INSOLE_RATE_100_HZ = 1,
    INSOLE_RATE_200_HZ = 2
} insole_rate_code_t;

typedef enum {
    INSOLE_OP_START_STREAMING = 0x01,
    INSOLE_OP_STOP_STREAMING = 0x02,
    INSOLE_OP_SET_SAMPLE_RATE = 0x03,
    INSOLE_OP_TARE = 0x04,
    INSOLE_OP_IDENTIFY = 0x05,
    INSOLE_OP_READ_CLOCK = 0x06,
    INSOLE_OP_GET_INFO = 0x07
} insole_opcode_t;

#define INSOLE_REPLY_FLAG 0x80u

typedef enum {
    INSOLE_STATUS_OK = 0x00,
    INSOLE_STATUS_BAD_COMMAND = 0x01,
    INSOLE_STATUS_BAD_ARGUMENT = 0x02,
    INSOLE_STATUS_BUSY = 0x03,
    INSOLE_STATUS_MTU_TOO_SMALL = 0x04
} insole_status_t;

/* ------------------------------------------------------------------ codec */

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, xorout 0).
 * insole_crc16("123456789", 9) == 0x29B1. */
uint16_t insole_crc16(const uint8_t *data, size_t len);

/* Continue a CRC over more bytes (start with crc = 0xFFFF). */
uint16_t insole_crc16_update(uint16_t crc, const uint8_t *data, size_t len);

/* Sample period in microseconds of a rate code (20000, 10000, 5000); 0 if invalid. */
uint32_t insole_period_us(uint8_t rate_code);

/* Samples per second of a rate code (50, 100, 200); 0 if invalid. */
uint16_t insole_rate_hz(uint8_t rate_code);

/* Bytes of a sample packet of n samples: 20 + 32 n, or 20 + 44 n with IMU. */
size_t insole_packet_size(uint8_t n_samples, bool imu);

/* Smallest ATT MTU that carries that packet in one notification. */
uint16_t insole_min_att_mtu(uint8_t n_samples, bool imu);

/* 7 without IMU, 5 with. */
uint8_t insole_max_samples_per_packet(bool imu);

/* One sample packet (PROTOCOL.md section 4).
 *   pressure_codes: n_samples x 16 uint16, sample after sample, 0.1 kPa,
 *                   INSOLE_SATURATED_CODE for a saturated sensor;
 *   imu_codes:      n_samples x 6 int16, or NULL for a packet without IMU.
 * IMU_PRESENT and SATURATED in `flags` are ignored and derived from the data;
 * other bits (reserved ones included) are sent as given.
 * Returns the packet length, or 0 if foot, rate code or n_samples is out of
 * range or `cap` is too small. */
size_t insole_encode_sample_packet(uint8_t *out, size_t cap, uint8_t foot, uint8_t rate_code,
                                   uint8_t n_samples, uint32_t sequence, uint64_t timestamp_us,
                                   uint16_t flags, const uint16_t *pressure_codes,
                                   const int16_t *imu_codes);

/* A reply without payload (6 bytes): any non-OK status, and OK to
 * START/STOP_STREAMING, SET_SAMPLE_RATE, TARE, IDENTIFY. `opcode` is the
 * command's (bit 7 is set here). 0 if cap < 6. */
size_t insole_encode_reply(uint8_t *out, size_t cap, uint8_t opcode, uint8_t token, uint8_t status);

/* OK reply to READ_CLOCK (14 bytes). */
size_t insole_encode_clock_reply(uint8_t *out, size_t cap, uint8_t token, uint64_t clock_us);

/* OK reply to GET_INFO (20 bytes). `state` is INSOLE_STATE_* bits. Returns 0
 * for an out-of-range field (foot, battery, rate code, samples per packet,
 * reserved state bits, IMU enabled without IMU present, full scale 0 or 65535). */
size_t insole_encode_info_reply(uint8_t *out, size_t cap, uint8_t token, uint8_t foot,
                                uint32_t serial, uint8_t battery_pct, uint8_t fw_major,
                                uint8_t fw_minor, uint8_t fw_patch, uint8_t rate_code,
                                uint8_t samples_per_packet, uint8_t state,
                                uint16_t full_scale_code);

/* The BAD_COMMAND reply to a control write that does not decode: echoes
 * byte 1 (bit 7 cleared) and byte 2 of what arrived, 0 where missing. */
size_t insole_encode_bad_command_reply(uint8_t *out, size_t cap, const uint8_t *received,
                                       size_t received_len);

/* A command frame (what a host writes); for host-side tools and tests.
 * `args` holds 0 bytes (most commands), 3 (SET_SAMPLE_RATE) or 1 (IDENTIFY). */
size_t insole_encode_command(uint8_t *out, size_t cap, uint8_t opcode, uint8_t token,
                             const uint8_t *args, size_t n_args);

/* Manufacturer data payload after the company id (6 bytes). battery_pct
 * 0..100, or INSOLE_BATTERY_UNKNOWN. */
size_t insole_encode_manufacturer_data(uint8_t *out, size_t cap, uint8_t foot, uint32_t serial,
                                       uint8_t battery_pct);

/* The 31-byte advertising data: flags, service UUID, manufacturer data. */
size_t insole_encode_advertising_data(uint8_t *out, size_t cap, uint8_t foot, uint32_t serial,
                                      uint8_t battery_pct);

/* The scan response: the complete local name (15 bytes). */
size_t insole_encode_scan_response(uint8_t *out, size_t cap, uint8_t foot, uint32_t serial);

/* "INSOLE-L-1A2B" plus NUL into out[14]; returns 13, or 0 if cap < 14 or foot > 1. */
size_t insole_local_name(char *out, size_t cap, uint8_t foot, uint32_t serial);

/* Device Information serial string, "20241A2B" plus NUL into out[9]; returns 8. */
size_t insole_serial_string(char *out, size_t cap, uint32_t serial);

/* A command as received, after every check of PROTOCOL.md section 5. */
typedef struct {
    uint8_t opcode;
    uint8_t token;
    uint8_t rate_code;          /* SET_SAMPLE_RATE */
    uint8_t samples_per_packet; /* SET_SAMPLE_RATE */
    uint8_t imu_enabled;        /* SET_SAMPLE_RATE: 0 or 1 */
    uint8_t duration_s;         /* IDENTIFY: 1..60 */
} insole_command_t;

/* Decode a control write. Returns INSOLE_STATUS_OK with *cmd filled in,
 * INSOLE_STATUS_BAD_COMMAND (wrong CRC, version or length, unknown opcode),
 * or INSOLE_STATUS_BAD_ARGUMENT (a well-formed known command with an argument
 * out of range; cmd->opcode and cmd->token are set). */
insole_status_t insole_decode_command(const uint8_t *data, size_t len, insole_command_t *cmd);

/* ------------------------------------------------------------------ device clock */

/* The protocol's device clock: 64-bit microseconds since boot. Hardware
 * usually offers a free-running 32-bit microsecond counter (ESP32
 * esp_timer, an nRF52 TIMER at 1 MHz, Zephyr k_cycle_get_32 scaled): feed
 * its raw value to insole_clock_now() at least once per 71 minutes (one
 * wrap of 2^32 us) and it returns the widened, never-decreasing clock.
 * Boards with a native 64-bit microsecond clock can pass it straight into
 * the device functions instead. */
typedef struct {
    uint32_t last_raw;
    uint32_t wraps;
} insole_clock_t;

void insole_clock_init(insole_clock_t *clock, uint32_t raw_us);
uint64_t insole_clock_now(insole_clock_t *clock, uint32_t raw_us);

/* ------------------------------------------------------------------ device */

/* What handle_command asks the firmware to do besides sending the reply. */
#define INSOLE_ACTION_NONE 0x00u
#define INSOLE_ACTION_STREAM_STARTED 0x01u /* start the sampling timer at next_sample_us */
#define INSOLE_ACTION_STREAM_STOPPED 0x02u /* stop it (unless a tare still samples) */
#define INSOLE_ACTION_SETTINGS_CHANGED 0x04u
#define INSOLE_ACTION_TARE_STARTED 0x08u   /* sample for the tare; the reply comes from poll() */
#define INSOLE_ACTION_IDENTIFY 0x10u       /* blink and buzz for dev->identify_s seconds */
#define INSOLE_ACTION_CLOCK_READ 0x20u

typedef struct {
    /* identity, fixed at init */
    uint32_t serial;
    uint16_t full_scale_code; /* 0.1 kPa, 1..65534 */
    uint8_t foot;
    uint8_t firmware[3];
    bool imu_present;
    /* changes at run time */
    uint8_t battery_pct;
    /* stream settings, last until power-off */
    uint8_t rate_code;
    uint8_t samples_per_packet;
    bool imu_enabled;
    /* link */
    bool connected;
    bool data_notify;
    uint16_t att_mtu;
    /* stream */
    bool streaming;
    bool overrun_pending;
    bool clock_read;
    uint8_t pending;          /* samples gathered for the packet being formed */
    uint8_t identify_s;       /* duration of the last IDENTIFY */
    uint64_t stream_start_us; /* device time of sample 0 of the stream */
    uint64_t packets_formed;  /* packet index in the stream; low 32 bits = sequence */
    uint16_t pressure[INSOLE_MAX_SAMPLES_NO_IMU * INSOLE_N_SENSORS];
    int16_t imu[INSOLE_MAX_SAMPLES_IMU * INSOLE_N_IMU_AXES];
    /* tare */
    bool tared;
    bool tare_running;
    uint8_t tare_token;
    uint16_t tare_count;
    uint64_t tare_end_us;
    uint16_t tare_offset[INSOLE_N_SENSORS];
    uint32_t tare_sum[INSOLE_N_SENSORS];
} insole_device_t;

/* Power-on state: 100 Hz, 1 sample per packet, IMU off, no tare, not
 * connected, battery unknown. full_scale_code is the sensors' full scale in
 * 0.1 kPa (6000 = 600.0 kPa). Returns false (device unusable) for foot > 1
 * or full scale 0 / 65535. */
bool insole_device_init(insole_device_t *dev, uint8_t foot, uint32_t serial, uint8_t fw_major,
                        uint8_t fw_minor, uint8_t fw_patch, uint16_t full_scale_code,
                        bool imu_present);

/* Change the stream settings as SET_SAMPLE_RATE would (e.g. to boot with
 * other defaults). Returns OK, BUSY (streaming) or BAD_ARGUMENT. */
insole_status_t insole_device_configure(insole_device_t *dev, uint8_t rate_code,
                                        uint8_t samples_per_packet, bool imu_enabled);

void insole_device_set_battery(insole_device_t *dev, uint8_t battery_pct);
void insole_device_on_connect(insole_device_t *dev);
void insole_device_set_att_mtu(insole_device_t *dev, uint16_t att_mtu);
void insole_device_set_data_notify(insole_device_t *dev, bool enabled);
/* The link dropped: streaming stops (a half-formed packet is thrown away). */
void insole_device_on_disconnect(insole_device_t *dev);
/* End the stream without a command (e.g. the firmware itself runs out of
 * something); same effect on the state as STOP_STREAMING. */
void insole_device_stop_streaming(insole_device_t *dev);

/* Carry out one control write. Writes the reply into `reply` (give it
 * INSOLE_MAX_REPLY_SIZE bytes) and returns its length, or 0 when the reply
 * comes later (TARE: from insole_device_poll).
 * *actions (may be NULL) gets INSOLE_ACTION_* bits. now_us is the device clock. */
size_t insole_device_handle_command(insole_device_t *dev, const uint8_t *data, size_t len,
                                    uint64_t now_us, uint8_t *reply, size_t reply_cap,
                                    uint8_t *actions);

/* True while the firmware must take samples (streaming, or a tare running). */
bool insole_device_wants_samples(const insole_device_t *dev);

/* Device time at which the next sample of the stream is due (the samples of
 * a stream lie on the grid stream_start_us + k * period). */
uint64_t insole_device_next_sample_us(const insole_device_t *dev);

/* One sample: 16 raw pressure codes (0.1 kPa, INSOLE_SATURATED_CODE when at
 * or above full scale; the library applies the tare) and, when the IMU is
 * enabled, 6 IMU codes (else NULL). Feeds a running tare. While streaming,
 * when the sample completes a packet, writes the packet into `out` and
 * returns its length (its sequence number is then used, whether or not the
 * packet is sent); otherwise returns 0. */
size_t insole_device_add_sample(insole_device_t *dev, const uint16_t *pressure_codes,
                                const int16_t *imu_codes, uint8_t *out, size_t cap);

/* The last formed packet could not be queued (transmit buffer full): the
 * next packet carries OVERRUN, and the sequence gap says how many were lost. */
void insole_device_packet_discarded(insole_device_t *dev);

/* Finish a TARE whose window has ended: returns the length of its OK reply
 * written into `reply`, or 0 (nothing to send). Call it from the main loop. */
size_t insole_device_poll(insole_device_t *dev, uint64_t now_us, uint8_t *reply, size_t reply_cap);

/* sizeof(insole_device_t), for bindings that allocate it themselves. */
size_t insole_device_size(void);

#ifdef __cplusplus
}
#endif

#endif /* INSOLE_PROTOCOL_H */
