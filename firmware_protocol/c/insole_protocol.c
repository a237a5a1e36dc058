/*
 * insole_protocol.c - the device side of the insole wire protocol, version 1.
 * See insole_protocol.h for the API and firmware_protocol/PROTOCOL.md for the
 * normative text. C99, freestanding: it includes only <stdint.h>, <stddef.h>
 * and <stdbool.h> (through the header), so it builds where no libc headers
 * exist (arm-none-eabi-gcc -ffreestanding without newlib).
 */
#include "insole_protocol.h"

/* ------------------------------------------------------------------ helpers */

/* Small loops instead of memset/memcpy, so no libc header is needed. */
static void zero_bytes(void *dst, size_t n)
{
    uint8_t *d = (uint8_t *)dst;
    while (n--) {
        *d++ = 0u;
    }
}

static void copy_bytes(void *dst, const void *src, size_t n)
{
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    while (n--) {
        *d++ = *s++;
    }
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    p[2] = (uint8_t)((v >> 16) & 0xFFu);
    p[3] = (uint8_t)(v >> 24);
}

static void put_u64(uint8_t *p, uint64_t v)
{
    put_u32(p, (uint32_t)(v & 0xFFFFFFFFu));
    put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | ((uint16_t)p[1] << 8));
}

/* Append the CRC of out[0 .. len-1] at out[len]; returns the frame length. */
static size_t finish_frame(uint8_t *out, size_t len)
{
    put_u16(out + len, insole_crc16(out, len));
    return len + INSOLE_CRC_SIZE;
}

/* CRC-16/CCITT-FALSE, four bits at a time: a 32-byte table instead of 512
 * keeps flash small; a 244-byte packet still takes only ~500 table steps. */
static const uint16_t crc_nibble_table[16] = {
    0x0000u, 0x1021u, 0x2042u, 0x3063u, 0x4084u, 0x50A5u, 0x60C6u, 0x70E7u,
    0x8108u, 0x9129u, 0xA14Au, 0xB16Bu, 0xC18Cu, 0xD1ADu, 0xE1CEu, 0xF1EFu,
};

uint16_t insole_crc16_update(uint16_t crc, const uint8_t *data, size_t len)
{
    size_t i;
    for (i = 0; i < len; ++i) {
        crc = (uint16_t)((crc << 4) ^ crc_nibble_table[((crc >> 12) ^ (data[i] >> 4)) & 0x0Fu]);
        crc = (uint16_t)((crc << 4) ^ crc_nibble_table[((crc >> 12) ^ (data[i] & 0x0Fu)) & 0x0Fu]);
    }
    return crc;
}

uint16_t insole_crc16(const uint8_t *data, size_t len)
{
    return insole_crc16_update(0xFFFFu, data, len);
}

uint32_t insole_period_us(uint8_t rate_code)
{
    switch (rate_code) {
    case INSOLE_RATE_50_HZ:
        return 20000u;
    case INSOLE_RATE_100_HZ:
        return 10000u;
    case INSOLE_RATE_200_HZ:
        return 5000u;
    default:
        return 0u;
    }
}

uint16_t insole_rate_hz(uint8_t rate_code)
{
    uint32_t period = insole_period_us(rate_code);
    return period ? (uint16_t)(1000000u / period) : 0u;
}

static size_t sample_bytes(bool imu)
{
    return 2u * INSOLE_N_SENSORS + (imu ? 2u * INSOLE_N_IMU_AXES : 0u);
}

size_t insole_packet_size(uint8_t n_samples, bool imu)
{
    return INSOLE_SAMPLE_HEADER_SIZE + (size_t)n_samples * sample_bytes(imu) + INSOLE_CRC_SIZE;
}

uint16_t insole_min_att_mtu(uint8_t n_samples, bool imu)
{
    return (uint16_t)(insole_packet_size(n_samples, imu) + 3u);
}

uint8_t insole_max_samples_per_packet(bool imu)
{
    return imu ? INSOLE_MAX_SAMPLES_IMU : INSOLE_MAX_SAMPLES_NO_IMU;
}

/* ------------------------------------------------------------------ sample packet */

size_t insole_encode_sample_packet(uint8_t *out, size_t cap, uint8_t foot, uint8_t rate_code,
                                   uint8_t n_samples, uint32_t sequence, uint64_t timestamp_us,
                                   uint16_t flags, const uint16_t *pressure_codes,
                                   const int16_t *imu_codes)
{
    const bool imu = imu_codes != NULL;
    size_t size;
    size_t pos = INSOLE_SAMPLE_HEADER_SIZE;
    unsigned s, k;
    uint16_t saturated = 0u;

    if (out == NULL || pressure_codes == NULL || foot > 1u || insole_period_us(rate_code) == 0u ||
        n_samples < 1u || n_samples > insole_max_samples_per_packet(imu)) {
        return 0u;
    }
    size = insole_packet_size(n_samples, imu);
    if (cap < size) {
        return 0u;
    }
    for (s = 0; s < n_samples; ++s) {
        for (k = 0; k < INSOLE_N_SENSORS; ++k) {
            uint16_t code = pressure_codes[s * INSOLE_N_SENSORS + k];
            if (code == INSOLE_SATURATED_CODE) {
                saturated = INSOLE_FLAG_SATURATED;
            }
            put_u16(out + pos, code);
            pos += 2u;
        }
        if (imu) {
            for (k = 0; k < INSOLE_N_IMU_AXES; ++k) {
                /* two's complement, whatever the host's signed representation */
                int16_t v = imu_codes[s * INSOLE_N_IMU_AXES + k];
                put_u16(out + pos, (uint16_t)(v < 0 ? (uint16_t)(65536L + v) : (uint16_t)v));
                pos += 2u;
            }
        }
    }
    flags = (uint16_t)(flags & ~(INSOLE_FLAG_IMU_PRESENT | INSOLE_FLAG_SATURATED));
    flags = (uint16_t)(flags | saturated | (imu ? INSOLE_FLAG_IMU_PRESENT : 0u));
    out[0] = INSOLE_PROTOCOL_VERSION;
    out[1] = foot;
    out[2] = rate_code;
    out[3] = n_samples;
    put_u32(out + 4, sequence);
    put_u64(out + 8, timestamp_us);
    put_u16(out + 16, flags);
    return finish_frame(out, pos);
}

/* ------------------------------------------------------------------ replies */

static size_t reply_header(uint8_t *out, uint8_t opcode, uint8_t token, uint8_t status)
{
    out[0] = INSOLE_PROTOCOL_VERSION;
    out[1] = (uint8_t)(opcode | INSOLE_REPLY_FLAG);
    out[2] = token;
    out[3] = status;
    return 4u;
}

size_t insole_encode_reply(uint8_t *out, size_t cap, uint8_t opcode, uint8_t token, uint8_t status)
{
    if (out == NULL || cap < 6u || status > INSOLE_STATUS_MTU_TOO_SMALL) {
        return 0u;
    }
    return finish_frame(out, reply_header(out, opcode, token, status));
}

size_t insole_encode_clock_reply(uint8_t *out, size_t cap, uint8_t token, uint64_t clock_us)
{
    if (out == NULL || cap < 14u) {
        return 0u;
    }
    reply_header(out, INSOLE_OP_READ_CLOCK, token, INSOLE_STATUS_OK);
    put_u64(out + 4, clock_us);
    return finish_frame(out, 12u);
}

size_t insole_encode_info_reply(uint8_t *out, size_t cap, uint8_t token, uint8_t foot,
                                uint32_t serial, uint8_t battery_pct, uint8_t fw_major,
                                uint8_t fw_minor, uint8_t fw_patch, uint8_t rate_code,
                                uint8_t samples_per_packet, uint8_t state,
                                uint16_t full_scale_code)
{
    const uint8_t known = INSOLE_STATE_IMU_PRESENT | INSOLE_STATE_IMU_ENABLED | INSOLE_STATE_STREAMING;
    const bool imu_enabled = (state & INSOLE_STATE_IMU_ENABLED) != 0u;

    if (out == NULL || cap < 20u || foot > 1u ||
        (battery_pct > 100u && battery_pct != INSOLE_BATTERY_UNKNOWN) ||
        insole_period_us(rate_code) == 0u || (state & (uint8_t)~known) != 0u ||
        (imu_enabled && !(state & INSOLE_STATE_IMU_PRESENT)) || samples_per_packet < 1u ||
        samples_per_packet > insole_max_samples_per_packet(imu_enabled) || full_scale_code == 0u ||
        full_scale_code == INSOLE_SATURATED_CODE) {
        return 0u;
    }
    reply_header(out, INSOLE_OP_GET_INFO, token, INSOLE_STATUS_OK);
    out[4] = foot;
    put_u32(out + 5, serial);
    out[9] = battery_pct;
    out[10] = fw_major;
    out[11] = fw_minor;
    out[12] = fw_patch;
    out[13] = rate_code;
    out[14] = samples_per_packet;
    out[15] = state;
    put_u16(out + 16, full_scale_code);
    return finish_frame(out, 18u);
}

size_t insole_encode_bad_command_reply(uint8_t *out, size_t cap, const uint8_t *received,
                                       size_t received_len)
{
    uint8_t opcode = 0u;
    uint8_t token = 0u;
    if (received != NULL && received_len > 1u) {
        opcode = (uint8_t)(received[1] & (uint8_t)~INSOLE_REPLY_FLAG);
    }
    if (received != NULL && received_len > 2u) {
        token = received[2];
    }
    return insole_encode_reply(out, cap, opcode, token, INSOLE_STATUS_BAD_COMMAND);
}

/* ------------------------------------------------------------------ commands */

/* Argument bytes of a known opcode, or -1 for an unknown one. */
static int command_arg_size(uint8_t opcode)
{
    switch (opcode) {
    case INSOLE_OP_START_STREAMING:
    case INSOLE_OP_STOP_STREAMING:
    case INSOLE_OP_TARE:
    case INSOLE_OP_READ_CLOCK:
    case INSOLE_OP_GET_INFO:
        return 0;
    case INSOLE_OP_SET_SAMPLE_RATE:
        return 3;
    case INSOLE_OP_IDENTIFY:
        return 1;
    default:
        return -1;
    }
}

size_t insole_encode_command(uint8_t *out, size_t cap, uint8_t opcode, uint8_t token,
                             const uint8_t *args, size_t n_args)
{
    int expected = command_arg_size(opcode);
    if (out == NULL || expected < 0 || (size_t)expected != n_args || cap < 5u + n_args ||
        (n_args > 0u && args == NULL)) {
        return 0u;
    }
    out[0] = INSOLE_PROTOCOL_VERSION;
    out[1] = opcode;
    out[2] = token;
    if (n_args > 0u) {
        copy_bytes(out + 3, args, n_args);
    }
    return finish_frame(out, 3u + n_args);
}

insole_status_t insole_decode_command(const uint8_t *data, size_t len, insole_command_t *cmd)
{
    int arg_size;
    insole_command_t c;

    zero_bytes(&c, sizeof c);
    if (cmd != NULL) {
        *cmd = c;
    }
    /* The CRC first, so that corruption reads as corruption (PROTOCOL.md 6). */
    if (data == NULL || cmd == NULL || len < 5u ||
        get_u16(data + len - 2u) != insole_crc16(data, len - 2u) ||
        data[0] != INSOLE_PROTOCOL_VERSION) {
        return INSOLE_STATUS_BAD_COMMAND;
    }
    arg_size = command_arg_size(data[1]);
    if (arg_size < 0 || len != 5u + (size_t)arg_size) {
        return INSOLE_STATUS_BAD_COMMAND;
    }
    c.opcode = data[1];
    c.token = data[2];
    *cmd = c;
    if (c.opcode == INSOLE_OP_SET_SAMPLE_RATE) {
        c.rate_code = data[3];
        c.samples_per_packet = data[4];
        c.imu_enabled = data[5];
        if (insole_period_us(c.rate_code) == 0u || c.imu_enabled > 1u || c.samples_per_packet < 1u ||
            c.samples_per_packet > insole_max_samples_per_packet(c.imu_enabled != 0u)) {
            return INSOLE_STATUS_BAD_ARGUMENT;
        }
    } else if (c.opcode == INSOLE_OP_IDENTIFY) {
        c.duration_s = data[3];
        if (c.duration_s < 1u || c.duration_s > 60u) {
            return INSOLE_STATUS_BAD_ARGUMENT;
        }
    }
    *cmd = c;
    return INSOLE_STATUS_OK;
}

/* ------------------------------------------------------------------ advertising */

static const char hex_digits[] = "0123456789ABCDEF";

size_t insole_encode_manufacturer_data(uint8_t *out, size_t cap, uint8_t foot, uint32_t serial,
                                       uint8_t battery_pct)
{
    if (out == NULL || cap < INSOLE_MANUFACTURER_DATA_SIZE || foot > 1u ||
        (battery_pct > 100u && battery_pct != INSOLE_BATTERY_UNKNOWN)) {
        return 0u;
    }
    out[0] = INSOLE_PROTOCOL_VERSION;
    out[1] = (uint8_t)((foot << 7) | battery_pct);
    put_u32(out + 2, serial);
    return INSOLE_MANUFACTURER_DATA_SIZE;
}

size_t insole_encode_advertising_data(uint8_t *out, size_t cap, uint8_t foot, uint32_t serial,
                                      uint8_t battery_pct)
{
    static const uint8_t head[21] = {
        0x02, 0x01, 0x06, /* flags: LE General Discoverable, no BR/EDR */
        0x11, 0x07, INSOLE_UUID128_LE(INSOLE_SERVICE_UUID16),
    };
    if (out == NULL || cap < INSOLE_ADVERTISING_DATA_SIZE) {
        return 0u;
    }
    copy_bytes(out, head, sizeof head);
    out[21] = 0x09; /* length: type + company id + 6 bytes */
    out[22] = 0xFF; /* manufacturer specific data */
    put_u16(out + 23, INSOLE_COMPANY_ID);
    if (insole_encode_manufacturer_data(out + 25, cap - 25u, foot, serial, battery_pct) == 0u) {
        return 0u;
    }
    return INSOLE_ADVERTISING_DATA_SIZE;
}

size_t insole_local_name(char *out, size_t cap, uint8_t foot, uint32_t serial)
{
    static const char prefix[] = "INSOLE-";
    unsigned i;
    if (out == NULL || cap < INSOLE_LOCAL_NAME_LEN + 1u || foot > 1u) {
        return 0u;
    }
    copy_bytes(out, prefix, 7u);
    out[7] = foot ? 'R' : 'L';
    out[8] = '-';
    for (i = 0; i < 4u; ++i) {
        out[9u + i] = hex_digits[(serial >> (12u - 4u * i)) & 0x0Fu];
    }
    out[INSOLE_LOCAL_NAME_LEN] = '\0';
    return INSOLE_LOCAL_NAME_LEN;
}

size_t insole_encode_scan_response(uint8_t *out, size_t cap, uint8_t foot, uint32_t serial)
{
    char name[INSOLE_LOCAL_NAME_LEN + 1u];
    if (out == NULL || cap < INSOLE_SCAN_RESPONSE_SIZE ||
        insole_local_name(name, sizeof name, foot, serial) == 0u) {
        return 0u;
    }
    out[0] = (uint8_t)(INSOLE_LOCAL_NAME_LEN + 1u);
    out[1] = 0x09; /* complete local name */
    copy_bytes(out + 2, name, INSOLE_LOCAL_NAME_LEN);
    return INSOLE_SCAN_RESPONSE_SIZE;
}

size_t insole_serial_string(char *out, size_t cap, uint32_t serial)
{
    unsigned i;
    if (out == NULL || cap < 9u) {
        return 0u;
    }
    for (i = 0; i < 8u; ++i) {
        out[i] = hex_digits[(serial >> (28u - 4u * i)) & 0x0Fu];
    }
    out[8] = '\0';
    return 8u;
}

/* ------------------------------------------------------------------ device clock */

void insole_clock_init(insole_clock_t *clock, uint32_t raw_us)
{
    clock->last_raw = raw_us;
    clock->wraps = 0u;
}

uint64_t insole_clock_now(insole_clock_t *clock, uint32_t raw_us)
{
    if (raw_us < clock->last_raw) {
        clock->wraps++;
    }
    clock->last_raw = raw_us;
    return ((uint64_t)clock->wraps << 32) | raw_us;
}

/* ------------------------------------------------------------------ device */

size_t insole_device_size(void)
{
    return sizeof(insole_device_t);
}

static bool settings_valid(const insole_device_t *dev, uint8_t rate_code, uint8_t n, bool imu)
{
    return insole_period_us(rate_code) != 0u && n >= 1u && n <= insole_max_samples_per_packet(imu) &&
           (!imu || dev->imu_present);
}

bool insole_device_init(insole_device_t *dev, uint8_t foot, uint32_t serial, uint8_t fw_major,
                        uint8_t fw_minor, uint8_t fw_patch, uint16_t full_scale_code,
                        bool imu_present)
{
    if (dev == NULL) {
        return false;
    }
    zero_bytes(dev, sizeof *dev);
    if (foot > 1u || full_scale_code == 0u || full_scale_code == INSOLE_SATURATED_CODE) {
        return false;
    }
    dev->foot = foot;
    dev->serial = serial;
    dev->firmware[0] = fw_major;
    dev->firmware[1] = fw_minor;
    dev->firmware[2] = fw_patch;
    dev->full_scale_code = full_scale_code;
    dev->imu_present = imu_present;
    dev->battery_pct = INSOLE_BATTERY_UNKNOWN;
    dev->rate_code = INSOLE_RATE_100_HZ;
    dev->samples_per_packet = 1u;
    dev->imu_enabled = false;
    dev->att_mtu = INSOLE_DEFAULT_ATT_MTU;
    return true;
}

insole_status_t insole_device_configure(insole_device_t *dev, uint8_t rate_code,
                                        uint8_t samples_per_packet, bool imu_enabled)
{
    if (dev->streaming) {
        return INSOLE_STATUS_BUSY;
    }
    if (!settings_valid(dev, rate_code, samples_per_packet, imu_enabled)) {
        return INSOLE_STATUS_BAD_ARGUMENT;
    }
    dev->rate_code = rate_code;
    dev->samples_per_packet = samples_per_packet;
    dev->imu_enabled = imu_enabled;
    return INSOLE_STATUS_OK;
}

void insole_device_set_battery(insole_device_t *dev, uint8_t battery_pct)
{
    if (battery_pct <= 100u || battery_pct == INSOLE_BATTERY_UNKNOWN) {
        dev->battery_pct = battery_pct;
    }
}

void insole_device_on_connect(insole_device_t *dev)
{
    dev->connected = true;
    dev->data_notify = false;
    dev->att_mtu = INSOLE_DEFAULT_ATT_MTU;
}

void insole_device_set_att_mtu(insole_device_t *dev, uint16_t att_mtu)
{
    dev->att_mtu = att_mtu;
}

void insole_device_set_data_notify(insole_device_t *dev, bool enabled)
{
    dev->data_notify = enabled;
}

void insole_device_stop_streaming(insole_device_t *dev)
{
    dev->streaming = false;
    dev->pending = 0u;
}

void insole_device_on_disconnect(insole_device_t *dev)
{
    insole_device_stop_streaming(dev);
    dev->connected = false;
    dev->data_notify = false;
    dev->att_mtu = INSOLE_DEFAULT_ATT_MTU;
}

static void begin_stream(insole_device_t *dev, uint64_t now_us)
{
    dev->streaming = true;
    dev->stream_start_us = now_us;
    dev->packets_formed = 0u;
    dev->pending = 0u;
    dev->overrun_pending = false;
}

size_t insole_device_handle_command(insole_device_t *dev, const uint8_t *data, size_t len,
                                    uint64_t now_us, uint8_t *reply, size_t reply_cap,
                                    uint8_t *actions)
{
    insole_command_t cmd;
    insole_status_t status;
    uint8_t act = INSOLE_ACTION_NONE;
    size_t n = 0u;

    if (actions != NULL) {
        *actions = INSOLE_ACTION_NONE;
    }
    status = insole_decode_command(data, len, &cmd);
    if (status == INSOLE_STATUS_BAD_COMMAND) {
        return insole_encode_bad_command_reply(reply, reply_cap, data, len);
    }
    if (status == INSOLE_STATUS_BAD_ARGUMENT) {
        return insole_encode_reply(reply, reply_cap, cmd.opcode, cmd.token, status);
    }
    if (dev->tare_running) {
        /* One command at a time: the tare is still averaging. */
        return insole_encode_reply(reply, reply_cap, cmd.opcode, cmd.token, INSOLE_STATUS_BUSY);
    }
    status = INSOLE_STATUS_OK;
    switch (cmd.opcode) {
    case INSOLE_OP_START_STREAMING:
        if (!dev->streaming) {
            if (dev->att_mtu < insole_min_att_mtu(dev->samples_per_packet, dev->imu_enabled)) {
                status = INSOLE_STATUS_MTU_TOO_SMALL;
            } else if (!dev->data_notify) {
                status = INSOLE_STATUS_BUSY;
            } else {
                begin_stream(dev, now_us);
                act = INSOLE_ACTION_STREAM_STARTED;
            }
        }
        break;
    case INSOLE_OP_STOP_STREAMING:
        if (dev->streaming) {
            act = INSOLE_ACTION_STREAM_STOPPED;
        }
        insole_device_stop_streaming(dev);
        break;
    case INSOLE_OP_SET_SAMPLE_RATE:
        status = insole_device_configure(dev, cmd.rate_code, cmd.samples_per_packet, cmd.imu_enabled != 0u);
        if (status == INSOLE_STATUS_OK) {
            act = INSOLE_ACTION_SETTINGS_CHANGED;
        }
        break;
    case INSOLE_OP_TARE:
        dev->tare_running = true;
        dev->tare_token = cmd.token;
        dev->tare_end_us = now_us + INSOLE_TARE_WINDOW_US;
        dev->tare_count = 0u;
        zero_bytes(dev->tare_sum, sizeof dev->tare_sum);
        if (actions != NULL) {
            *actions = INSOLE_ACTION_TARE_STARTED;
        }
        return 0u; /* the reply comes from insole_device_poll */
    case INSOLE_OP_IDENTIFY:
        dev->identify_s = cmd.duration_s;
        act = INSOLE_ACTION_IDENTIFY;
        break;
    case INSOLE_OP_READ_CLOCK:
        dev->clock_read = true;
        if (actions != NULL) {
            *actions = INSOLE_ACTION_CLOCK_READ;
        }
        return insole_encode_clock_reply(reply, reply_cap, cmd.token, now_us);
    case INSOLE_OP_GET_INFO:
        n = insole_encode_info_reply(
            reply, reply_cap, cmd.token, dev->foot, dev->serial, dev->battery_pct, dev->firmware[0],
            dev->firmware[1], dev->firmware[2], dev->rate_code, dev->samples_per_packet,
            (uint8_t)((dev->imu_present ? INSOLE_STATE_IMU_PRESENT : 0u) |
                      (dev->imu_enabled ? INSOLE_STATE_IMU_ENABLED : 0u) |
                      (dev->streaming ? INSOLE_STATE_STREAMING : 0u)),
            dev->full_scale_code);
        return n;
    default:
        break; /* unreachable: decode accepted only known opcodes */
    }
    if (actions != NULL) {
        *actions = act;
    }
    return insole_encode_reply(reply, reply_cap, cmd.opcode, cmd.token, (uint8_t)status);
}

bool insole_device_wants_samples(const insole_device_t *dev)
{
    return dev->streaming || dev->tare_running;
}

uint64_t insole_device_next_sample_us(const insole_device_t *dev)
{
    uint64_t index = dev->packets_formed * dev->samples_per_packet + dev->pending;
    return dev->stream_start_us + index * insole_period_us(dev->rate_code);
}

size_t insole_device_add_sample(insole_device_t *dev, const uint16_t *pressure_codes,
                                const int16_t *imu_codes, uint8_t *out, size_t cap)
{
    unsigned k;
    uint16_t *row;
    uint16_t flags = 0u;
    uint32_t period;
    uint64_t timestamp_us;
    size_t size;
    bool feed_tare = dev->tare_running && dev->tare_count < 0xFFFFu;

    if (pressure_codes == NULL) {
        return 0u;
    }
    if (feed_tare && dev->streaming) {
        /* While streaming, only the samples taken inside the tare window count. */
        feed_tare = insole_device_next_sample_us(dev) < dev->tare_end_us;
    }
    if (feed_tare) {
        for (k = 0; k < INSOLE_N_SENSORS; ++k) {
            uint16_t code = pressure_codes[k];
            dev->tare_sum[k] += code == INSOLE_SATURATED_CODE ? dev->full_scale_code : code;
        }
        dev->tare_count++;
    }
    if (!dev->streaming) {
        return 0u;
    }
    row = &dev->pressure[(size_t)dev->pending * INSOLE_N_SENSORS];
    for (k = 0; k < INSOLE_N_SENSORS; ++k) {
        uint16_t code = pressure_codes[k];
        if (dev->tared && code != INSOLE_SATURATED_CODE) {
            code = code > dev->tare_offset[k] ? (uint16_t)(code - dev->tare_offset[k]) : 0u;
        }
        row[k] = code;
    }
    if (dev->imu_enabled) {
        for (k = 0; k < INSOLE_N_IMU_AXES; ++k) {
            dev->imu[(size_t)dev->pending * INSOLE_N_IMU_AXES + k] =
                imu_codes != NULL ? imu_codes[k] : 0;
        }
    }
    dev->pending++;
    if (dev->pending < dev->samples_per_packet) {
        return 0u;
    }

    period = insole_period_us(dev->rate_code);
    timestamp_us = dev->stream_start_us + dev->packets_formed * dev->samples_per_packet * period;
    if (dev->battery_pct <= INSOLE_LOW_BATTERY_PCT) {
        flags |= INSOLE_FLAG_LOW_BATTERY;
    }
    if (dev->tared) {
        flags |= INSOLE_FLAG_TARED;
    }
    if (dev->clock_read) {
        flags |= INSOLE_FLAG_CLOCK_READ;
    }
    if (dev->overrun_pending) {
        flags |= INSOLE_FLAG_OVERRUN;
    }
    size = insole_encode_sample_packet(out, cap, dev->foot, dev->rate_code, dev->samples_per_packet,
                                       (uint32_t)(dev->packets_formed & 0xFFFFFFFFu), timestamp_us,
                                       flags, dev->pressure, dev->imu_enabled ? dev->imu : NULL);
    /* The sequence number belongs to the packet once formed, sent or not. */
    dev->packets_formed++;
    dev->pending = 0u;
    if (size == 0u) {
        /* No room in `out`: the packet is lost, and says so through the next one. */
        dev->overrun_pending = true;
    } else {
        dev->overrun_pending = false;
    }
    return size;
}

void insole_device_packet_discarded(insole_device_t *dev)
{
    dev->overrun_pending = true;
}

size_t insole_device_poll(insole_device_t *dev, uint64_t now_us, uint8_t *reply, size_t reply_cap)
{
    unsigned k;
    if (!dev->tare_running || now_us < dev->tare_end_us) {
        return 0u;
    }
    for (k = 0; k < INSOLE_N_SENSORS; ++k) {
        uint32_t mean = 0u;
        if (dev->tare_count > 0u) {
            mean = (dev->tare_sum[k] + dev->tare_count / 2u) / dev->tare_count;
        }
        /* A sensor at full scale during the tare cannot be zeroed. */
        dev->tare_offset[k] = mean >= dev->full_scale_code ? 0u : (uint16_t)mean;
    }
    dev->tared = true;
    dev->tare_running = false;
    return insole_encode_reply(reply, reply_cap, INSOLE_OP_TARE, dev->tare_token, INSOLE_STATUS_OK);
}
