/*
 * Zephyr (3.x, e.g. nRF52840 with the nRF Connect SDK) insole firmware sketch
 * around insole_protocol.
 *
 * NOT RUN ON HARDWARE, NOT COMPILED HERE: this file shows where the library's
 * calls go in a Zephyr Bluetooth peripheral. It has not been built with west
 * nor flashed to a board. Zephyr renames Bluetooth API from release to
 * release (e.g. BT_LE_ADV_OPT_CONNECTABLE became BT_LE_ADV_OPT_CONN in 4.0):
 * check every call against your version. docs/firmware-c.md walks through it.
 *
 * CMakeLists.txt:  target_sources(app PRIVATE src/main.c src/insole_protocol.c)
 * prj.conf:
 *   CONFIG_BT=y
 *   CONFIG_BT_PERIPHERAL=y
 *   CONFIG_BT_DEVICE_NAME_DYNAMIC=y
 *   CONFIG_BT_L2CAP_TX_MTU=247
 *   CONFIG_BT_BUF_ACL_TX_SIZE=251
 *   CONFIG_BT_BUF_ACL_RX_SIZE=251
 *   CONFIG_BT_CTLR_DATA_LENGTH_MAX=251
 *   CONFIG_BT_GATT_CLIENT=y          (for the MTU request)
 *   CONFIG_BT_BAS=y
 *   CONFIG_BT_DIS=y  CONFIG_BT_DIS_MODEL="insole16"  CONFIG_BT_DIS_MANUF="insole project"
 *   CONFIG_BT_DIS_SERIAL_NUMBER=y  CONFIG_BT_DIS_FW_REV=y  CONFIG_BT_DIS_SETTINGS=y
 *   CONFIG_ADC=y  CONFIG_GPIO=y  CONFIG_HWINFO=y  CONFIG_TIMEOUT_64BIT=y
 * Devicetree overlay (one SAADC input behind a CD74HC4067 16:1 multiplexer):
 *   / { zephyr,user { io-channels = <&adc 0>;
 *       mux-gpios = <&gpio0 3 0>, <&gpio0 4 0>, <&gpio0 28 0>, <&gpio0 29 0>; }; };
 *   &adc { #address-cells = <1>; #size-cells = <0>;
 *       channel@0 { reg = <0>; zephyr,gain = "ADC_GAIN_1_4"; zephyr,reference = "ADC_REF_VDD_1_4";
 *                   zephyr,acquisition-time = <ADC_ACQ_TIME_DEFAULT>; zephyr,input-positive = <NRF_SAADC_AIN1>;
 *                   zephyr,resolution = <12>; }; };
 */
#include <errno.h>
#include <zephyr/bluetooth/bluetooth.h>
#include <zephyr/bluetooth/conn.h>
#include <zephyr/bluetooth/gatt.h>
#include <zephyr/bluetooth/services/bas.h>
#include <zephyr/bluetooth/uuid.h>
#include <zephyr/drivers/adc.h>
#include <zephyr/drivers/gpio.h>
#include <zephyr/drivers/hwinfo.h>
#include <zephyr/kernel.h>
#include <zephyr/settings/settings.h>

#include "insole_protocol.h"

#define FOOT INSOLE_FOOT_RIGHT
#define FULL_SCALE_CODE 6000 /* 600.0 kPa: the highest pressure your calibration trusts */
#define ADC_MAX 4095
#define DIVIDER_OHM 10000.0f

static const struct adc_dt_spec fsr_adc = ADC_DT_SPEC_GET(DT_PATH(zephyr_user));
static const struct gpio_dt_spec mux[4] = {
    GPIO_DT_SPEC_GET_BY_IDX(DT_PATH(zephyr_user), mux_gpios, 0),
    GPIO_DT_SPEC_GET_BY_IDX(DT_PATH(zephyr_user), mux_gpios, 1),
    GPIO_DT_SPEC_GET_BY_IDX(DT_PATH(zephyr_user), mux_gpios, 2),
    GPIO_DT_SPEC_GET_BY_IDX(DT_PATH(zephyr_user), mux_gpios, 3),
};

/* Per-sensor calibration (docs/firmware-c.md); load it with the settings subsystem. */
static float cal_gain[INSOLE_N_SENSORS];
static float cal_offset[INSOLE_N_SENSORS];

static insole_device_t dev; /* all protocol state; no heap */
K_MUTEX_DEFINE(dev_lock);
K_SEM_DEFINE(sampling_wanted, 0, 1);
static struct bt_conn *current;

static uint64_t now_us(void)
{
    /* 64-bit kernel uptime in us; with a free-running 32-bit 1 MHz TIMER instead,
     * widen it with insole_clock_now(). */
    return k_ticks_to_us_floor64((uint64_t)k_uptime_ticks());
}

/* ---------------------------------------------------------------- sensors */

static uint16_t read_fsr_code(unsigned sensor)
{
    int16_t raw = 0;
    struct adc_sequence sequence = {.buffer = &raw, .buffer_size = sizeof raw};

    for (unsigned bit = 0; bit < 4; ++bit) {
        gpio_pin_set_dt(&mux[bit], (sensor >> bit) & 1u);
    }
    k_busy_wait(5); /* let the mux output settle */
    adc_sequence_init_dt(&fsr_adc, &sequence);
    if (adc_read_dt(&fsr_adc, &sequence) != 0) {
        return 0;
    }
    if (raw >= ADC_MAX - 2) {
        return INSOLE_SATURATED_CODE; /* at the rail: true value unknown */
    }
    if (raw <= 0) {
        return 0;
    }
    float ratio = (float)raw / (float)ADC_MAX;
    float conductance_us = 1e6f * ratio / (DIVIDER_OHM * (1.0f - ratio));
    float code = cal_gain[sensor] * conductance_us + cal_offset[sensor];
    if (code <= 0.0f) {
        return 0;
    }
    if (code >= (float)FULL_SCALE_CODE) {
        return INSOLE_SATURATED_CODE; /* MUST be 65535, never clipped (PROTOCOL.md 4) */
    }
    return (uint16_t)(code + 0.5f);
}

/* ---------------------------------------------------------------- GATT */

static ssize_t control_write(struct bt_conn *conn, const struct bt_gatt_attr *attr, const void *buf,
                             uint16_t len, uint16_t offset, uint8_t flags);
static void data_ccc_changed(const struct bt_gatt_attr *attr, uint16_t value);
static void control_ccc_changed(const struct bt_gatt_attr *attr, uint16_t value)
{
    (void)attr;
    (void)value;
}

static const struct bt_uuid_128 svc_uuid = BT_UUID_INIT_128(INSOLE_UUID128_LE(INSOLE_SERVICE_UUID16));
static const struct bt_uuid_128 data_uuid = BT_UUID_INIT_128(INSOLE_UUID128_LE(INSOLE_DATA_CHAR_UUID16));
static const struct bt_uuid_128 control_uuid = BT_UUID_INIT_128(INSOLE_UUID128_LE(INSOLE_CONTROL_CHAR_UUID16));

/* attrs[0] service, [1] data decl, [2] data value, [3] data CCC,
 * [4] control decl, [5] control value, [6] control CCC */
BT_GATT_SERVICE_DEFINE(insole_svc,
    BT_GATT_PRIMARY_SERVICE(&svc_uuid),
    BT_GATT_CHARACTERISTIC(&data_uuid.uuid, BT_GATT_CHRC_NOTIFY, BT_GATT_PERM_NONE, NULL, NULL, NULL),
    BT_GATT_CCC(data_ccc_changed, BT_GATT_PERM_READ | BT_GATT_PERM_WRITE),
    BT_GATT_CHARACTERISTIC(&control_uuid.uuid, BT_GATT_CHRC_WRITE | BT_GATT_CHRC_NOTIFY, BT_GATT_PERM_WRITE,
                           NULL, control_write, NULL),
    BT_GATT_CCC(control_ccc_changed, BT_GATT_PERM_READ | BT_GATT_PERM_WRITE));

#define DATA_ATTR (&insole_svc.attrs[2])
#define CONTROL_ATTR (&insole_svc.attrs[5])

static void notify_reply(const uint8_t *reply, size_t len)
{
    if (current != NULL && len > 0) {
        bt_gatt_notify(current, CONTROL_ATTR, reply, (uint16_t)len);
    }
}

static void data_ccc_changed(const struct bt_gatt_attr *attr, uint16_t value)
{
    (void)attr;
    k_mutex_lock(&dev_lock, K_FOREVER);
    insole_device_set_data_notify(&dev, value == BT_GATT_CCC_NOTIFY);
    k_mutex_unlock(&dev_lock);
}

static ssize_t control_write(struct bt_conn *conn, const struct bt_gatt_attr *attr, const void *buf,
                             uint16_t len, uint16_t offset, uint8_t flags)
{
    (void)attr;
    (void)offset;
    (void)flags;
    uint8_t reply[INSOLE_MAX_REPLY_SIZE];
    uint8_t actions = 0;
    size_t reply_len;

    k_mutex_lock(&dev_lock, K_FOREVER);
    insole_device_set_att_mtu(&dev, bt_gatt_get_mtu(conn));
    reply_len = insole_device_handle_command(&dev, buf, len, now_us(), reply, sizeof reply, &actions);
    k_mutex_unlock(&dev_lock);
    if (actions & (INSOLE_ACTION_STREAM_STARTED | INSOLE_ACTION_TARE_STARTED)) {
        k_sem_give(&sampling_wanted);
    }
    if (actions & INSOLE_ACTION_IDENTIFY) {
        printk("identify for %u s\n", dev.identify_s); /* blink an LED, buzz */
    }
    notify_reply(reply, reply_len); /* the reply goes out after the write response */
    return len;
}

/* ---------------------------------------------------------------- connection */

static struct bt_gatt_exchange_params mtu_params;

static void mtu_exchanged(struct bt_conn *conn, uint8_t err, struct bt_gatt_exchange_params *params)
{
    (void)params;
    if (!err) {
        k_mutex_lock(&dev_lock, K_FOREVER);
        insole_device_set_att_mtu(&dev, bt_gatt_get_mtu(conn));
        k_mutex_unlock(&dev_lock);
    }
}

static void connected(struct bt_conn *conn, uint8_t err)
{
    if (err) {
        return;
    }
    current = bt_conn_ref(conn);
    k_mutex_lock(&dev_lock, K_FOREVER);
    insole_device_on_connect(&dev);
    k_mutex_unlock(&dev_lock);
    mtu_params.func = mtu_exchanged;
    bt_gatt_exchange_mtu(conn, &mtu_params); /* ask for 247 ourselves */
}

static void disconnected(struct bt_conn *conn, uint8_t reason)
{
    (void)reason;
    k_mutex_lock(&dev_lock, K_FOREVER);
    insole_device_on_disconnect(&dev); /* streaming stops */
    k_mutex_unlock(&dev_lock);
    if (current == conn) {
        bt_conn_unref(current);
        current = NULL;
    }
}

static void advertise(void);

static void advertise_work_handler(struct k_work *work)
{
    (void)work;
    advertise();
}

static K_WORK_DEFINE(advertise_work, advertise_work_handler);

static void recycled(void)
{
    /* The connection object is free again: advertise for the next host, from
     * the system work queue (Bluetooth calls inside this callback are discouraged). */
    k_work_submit(&advertise_work);
}

BT_CONN_CB_DEFINE(conn_callbacks) = {
    .connected = connected,
    .disconnected = disconnected,
    .recycled = recycled,
};

static void advertise(void)
{
    static uint8_t manufacturer[2 + INSOLE_MANUFACTURER_DATA_SIZE];
    static char name[INSOLE_LOCAL_NAME_LEN + 1];
    static const uint8_t flags = BT_LE_AD_GENERAL | BT_LE_AD_NO_BREDR;
    static const uint8_t uuid[16] = {INSOLE_UUID128_LE(INSOLE_SERVICE_UUID16)};

    manufacturer[0] = INSOLE_COMPANY_ID & 0xFF; /* a product MUST use its own company id */
    manufacturer[1] = INSOLE_COMPANY_ID >> 8;
    insole_encode_manufacturer_data(manufacturer + 2, sizeof manufacturer - 2, dev.foot, dev.serial,
                                    dev.battery_pct);
    insole_local_name(name, sizeof name, dev.foot, dev.serial);
    const struct bt_data ad[] = {
        BT_DATA(BT_DATA_FLAGS, &flags, 1),
        BT_DATA(BT_DATA_UUID128_ALL, uuid, sizeof uuid),
        BT_DATA(BT_DATA_MANUFACTURER_DATA, manufacturer, sizeof manufacturer),
    };
    const struct bt_data sd[] = {BT_DATA(BT_DATA_NAME_COMPLETE, name, INSOLE_LOCAL_NAME_LEN)};
    /* ADV_IND every 100 ms (160 x 0.625 ms) */
    bt_le_adv_start(BT_LE_ADV_PARAM(BT_LE_ADV_OPT_CONNECTABLE, 160, 160, NULL), ad, ARRAY_SIZE(ad), sd,
                    ARRAY_SIZE(sd));
}

/* ---------------------------------------------------------------- sampling thread */

static void sampling_thread(void *a, void *b, void *c)
{
    (void)a;
    (void)b;
    (void)c;
    uint16_t codes[INSOLE_N_SENSORS];
    uint8_t packet[INSOLE_MAX_PACKET_SIZE];
    uint8_t reply[INSOLE_MAX_REPLY_SIZE];

    for (;;) {
        k_sem_take(&sampling_wanted, K_FOREVER);
        for (;;) {
            uint64_t due;
            size_t len, reply_len;
            bool more;

            k_mutex_lock(&dev_lock, K_FOREVER);
            due = dev.streaming ? insole_device_next_sample_us(&dev)
                                : now_us() + insole_period_us(dev.rate_code);
            more = insole_device_wants_samples(&dev);
            k_mutex_unlock(&dev_lock);
            if (!more) {
                break;
            }
            k_sleep(K_TIMEOUT_ABS_US(due)); /* on the sample grid, same clock as now_us() */
            for (unsigned k = 0; k < INSOLE_N_SENSORS; ++k) {
                codes[k] = read_fsr_code(k);
            }
            k_mutex_lock(&dev_lock, K_FOREVER);
            len = insole_device_add_sample(&dev, codes, NULL, packet, sizeof packet);
            reply_len = insole_device_poll(&dev, now_us(), reply, sizeof reply); /* a finished TARE */
            k_mutex_unlock(&dev_lock);
            if (len > 0 && (current == NULL || bt_gatt_notify(current, DATA_ATTR, packet, (uint16_t)len) != 0)) {
                k_mutex_lock(&dev_lock, K_FOREVER);
                insole_device_packet_discarded(&dev); /* no buffer: the next packet says OVERRUN */
                k_mutex_unlock(&dev_lock);
            }
            notify_reply(reply, reply_len);
        }
    }
}

K_THREAD_DEFINE(sampling_tid, 2048, sampling_thread, NULL, NULL, NULL, 5, 0, 0);

/* ---------------------------------------------------------------- boot */

int main(void)
{
    uint8_t id[8] = {0};
    ssize_t id_len = hwinfo_get_device_id(id, sizeof id);
    uint32_t serial = id_len >= 4 ? ((uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3]) : 1;
    char name[INSOLE_LOCAL_NAME_LEN + 1];

    insole_device_init(&dev, FOOT, serial, 1, 0, 0, FULL_SCALE_CODE, false);
    insole_device_set_battery(&dev, INSOLE_BATTERY_UNKNOWN); /* update from your fuel gauge */
    for (unsigned k = 0; k < INSOLE_N_SENSORS; ++k) {
        cal_gain[k] = 1.0f; /* placeholders: load your calibration */
        cal_offset[k] = 0.0f;
    }
    for (unsigned bit = 0; bit < 4; ++bit) {
        gpio_pin_configure_dt(&mux[bit], GPIO_OUTPUT_INACTIVE);
    }
    adc_channel_setup_dt(&fsr_adc);

    if (bt_enable(NULL) != 0) {
        return -EIO;
    }
    settings_load(); /* DIS serial and firmware strings: set "bt/dis/serial" and "bt/dis/fw" */
    insole_local_name(name, sizeof name, dev.foot, dev.serial);
    bt_set_name(name);
    advertise();
    return 0;
}
