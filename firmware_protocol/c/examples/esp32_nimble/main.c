/*
 * ESP32 + NimBLE (ESP-IDF 5.x) insole firmware sketch around insole_protocol.
 *
 * NOT RUN ON HARDWARE, NOT COMPILED HERE: this file shows where the library's
 * calls go in an ESP-IDF NimBLE application. It has not been built against
 * ESP-IDF nor flashed to a board. Check every ESP-IDF call against the
 * version you use; docs/firmware-c.md walks through it.
 *
 * Project layout (ESP-IDF component "main"):
 *   main/main.c                 this file
 *   main/insole_protocol.c/.h   copied from firmware_protocol/c/
 *   main/CMakeLists.txt         idf_component_register(SRCS "main.c" "insole_protocol.c"
 *                                   INCLUDE_DIRS "." REQUIRES bt esp_adc esp_timer driver nvs_flash)
 * menuconfig: Component config > Bluetooth > NimBLE; ATT preferred MTU 247;
 *             enable the NimBLE Battery and Device Information services.
 *
 * Wiring (docs/firmware-c.md): 16 FSRs through a CD74HC4067 16:1 analog
 * multiplexer into ADC1 channel 6 (GPIO34); mux select lines S0..S3 on
 * GPIO 25, 26, 27, 14. Each FSR forms a voltage divider with a 10 kOhm
 * resistor to ground.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "driver/gpio.h"
#include "esp_adc/adc_oneshot.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/semphr.h"
#include "freertos/task.h"
#include "host/ble_hs.h"
#include "host/util/util.h"
#include "nimble/nimble_port.h"
#include "nimble/nimble_port_freertos.h"
#include "nvs_flash.h"
#include "services/bas/ble_svc_bas.h"
#include "services/dis/ble_svc_dis.h"
#include "services/gap/ble_svc_gap.h"
#include "services/gatt/ble_svc_gatt.h"

#include "insole_protocol.h"

#define FOOT INSOLE_FOOT_LEFT
#define FW_MAJOR 1
#define FW_MINOR 0
#define FW_PATCH 0
#define FULL_SCALE_CODE 6000 /* 600.0 kPa: the highest pressure your calibration trusts */

static const char *TAG = "insole";
static const gpio_num_t MUX_SELECT[4] = {GPIO_NUM_25, GPIO_NUM_26, GPIO_NUM_27, GPIO_NUM_14};
#define FSR_ADC_CHANNEL ADC_CHANNEL_6
#define ADC_MAX 4095

/* Per-sensor calibration (docs/firmware-c.md): pressure in 0.1 kPa =
 * gain * conductance_uS + offset, conductance from the divider voltage.
 * Fill these from your calibration and keep them in NVS. */
static float cal_gain[INSOLE_N_SENSORS];
static float cal_offset[INSOLE_N_SENSORS];
#define DIVIDER_OHM 10000.0f

static insole_device_t dev; /* all protocol state; no heap */
static SemaphoreHandle_t dev_lock;
static StaticSemaphore_t dev_lock_storage;
static uint16_t conn_handle = BLE_HS_CONN_HANDLE_NONE;
static uint16_t data_handle, control_handle;
static uint8_t own_addr_type;
static adc_oneshot_unit_handle_t adc;
static esp_timer_handle_t sample_timer;

static const ble_uuid128_t svc_uuid = BLE_UUID128_INIT(INSOLE_UUID128_LE(INSOLE_SERVICE_UUID16));
static const ble_uuid128_t data_uuid = BLE_UUID128_INIT(INSOLE_UUID128_LE(INSOLE_DATA_CHAR_UUID16));
static const ble_uuid128_t control_uuid = BLE_UUID128_INIT(INSOLE_UUID128_LE(INSOLE_CONTROL_CHAR_UUID16));

static uint64_t now_us(void)
{
    return (uint64_t)esp_timer_get_time(); /* 64-bit us since boot: already the device clock */
}

/* ---------------------------------------------------------------- sensors */

static uint16_t read_fsr_code(unsigned sensor)
{
    int raw = 0;
    for (unsigned bit = 0; bit < 4; ++bit) {
        gpio_set_level(MUX_SELECT[bit], (sensor >> bit) & 1u);
    }
    esp_rom_delay_us(5); /* let the mux output settle */
    adc_oneshot_read(adc, FSR_ADC_CHANNEL, &raw);
    if (raw >= ADC_MAX - 2) {
        return INSOLE_SATURATED_CODE; /* the ADC is at its rail: true value unknown */
    }
    /* divider: V = Vcc * R / (R + Rfsr)  =>  G_fsr = V / (R * (Vcc - V)) */
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

/* ---------------------------------------------------------------- sending */

static void notify(uint16_t handle, const uint8_t *data, size_t len, bool is_packet)
{
    if (conn_handle == BLE_HS_CONN_HANDLE_NONE) {
        return;
    }
    struct os_mbuf *om = ble_hs_mbuf_from_flat(data, (uint16_t)len);
    int rc = om ? ble_gatts_notify_custom(conn_handle, handle, om) : BLE_HS_ENOMEM;
    if (rc != 0 && is_packet) {
        insole_device_packet_discarded(&dev); /* the next packet says OVERRUN */
    }
}

/* One sample, then re-arm for the next one (esp_timer task). A one-shot timer
 * aimed at insole_device_next_sample_us() keeps the reads on the library's
 * sample grid (stream_start + k * period) without drifting from it. */
static void sample_tick(void *arg)
{
    (void)arg;
    uint16_t codes[INSOLE_N_SENSORS];
    uint8_t packet[INSOLE_MAX_PACKET_SIZE];
    uint8_t reply[INSOLE_MAX_REPLY_SIZE];
    size_t len, reply_len;
    uint64_t now, next;

    for (unsigned k = 0; k < INSOLE_N_SENSORS; ++k) {
        codes[k] = read_fsr_code(k);
    }
    xSemaphoreTake(dev_lock, portMAX_DELAY);
    len = insole_device_add_sample(&dev, codes, NULL, packet, sizeof packet);
    if (len) {
        notify(data_handle, packet, len, true);
    }
    reply_len = insole_device_poll(&dev, now_us(), reply, sizeof reply); /* a finished TARE */
    if (reply_len) {
        notify(control_handle, reply, reply_len, false);
    }
    if (insole_device_wants_samples(&dev)) {
        now = now_us();
        /* Not streaming (a tare only): any steady pace will do. */
        next = dev.streaming ? insole_device_next_sample_us(&dev) : now + insole_period_us(dev.rate_code);
        esp_timer_start_once(sample_timer, next > now ? next - now : 0); /* late: catch up at once */
    }
    xSemaphoreGive(dev_lock);
}

static void start_sampling(bool new_stream)
{
    /* The first sample of a stream is due at once (its grid time is the
     * START_STREAMING time); esp_timer runs on esp_timer_get_time()'s clock.
     * A TARE while streaming keeps the running schedule. */
    if (new_stream) {
        esp_timer_stop(sample_timer);
    }
    if (!esp_timer_is_active(sample_timer)) {
        esp_timer_start_once(sample_timer, 0);
    }
}

/* ---------------------------------------------------------------- GATT */

static int control_access(uint16_t conn, uint16_t attr, struct ble_gatt_access_ctxt *ctxt, void *arg)
{
    (void)attr;
    (void)arg;
    uint8_t command[INSOLE_MAX_COMMAND_SIZE + 8];
    uint8_t reply[INSOLE_MAX_REPLY_SIZE];
    uint16_t len = 0;
    uint8_t actions = 0;
    size_t reply_len;

    if (ctxt->op != BLE_GATT_ACCESS_OP_WRITE_CHR) {
        return BLE_ATT_ERR_UNLIKELY;
    }
    /* A write longer than any command is still answered, with BAD_COMMAND. */
    ble_hs_mbuf_to_flat(ctxt->om, command, sizeof command, &len);
    xSemaphoreTake(dev_lock, portMAX_DELAY);
    insole_device_set_att_mtu(&dev, ble_att_mtu(conn));
    reply_len = insole_device_handle_command(&dev, command, len, now_us(), reply, sizeof reply, &actions);
    if (actions & (INSOLE_ACTION_STREAM_STARTED | INSOLE_ACTION_TARE_STARTED)) {
        start_sampling((actions & INSOLE_ACTION_STREAM_STARTED) != 0);
    }
    if (actions & INSOLE_ACTION_IDENTIFY) {
        ESP_LOGI(TAG, "identify for %u s", dev.identify_s); /* blink an LED, buzz */
    }
    xSemaphoreGive(dev_lock);
    if (reply_len) {
        notify(control_handle, reply, reply_len, false); /* after the write response */
    }
    return 0;
}

static int data_access(uint16_t conn, uint16_t attr, struct ble_gatt_access_ctxt *ctxt, void *arg)
{
    (void)conn;
    (void)attr;
    (void)ctxt;
    (void)arg;
    return BLE_ATT_ERR_READ_NOT_PERMITTED; /* notify only */
}

static const struct ble_gatt_svc_def gatt_services[] = {
    {
        .type = BLE_GATT_SVC_TYPE_PRIMARY,
        .uuid = &svc_uuid.u,
        .characteristics =
            (struct ble_gatt_chr_def[]){
                {.uuid = &data_uuid.u, .access_cb = data_access, .flags = BLE_GATT_CHR_F_NOTIFY,
                 .val_handle = &data_handle},
                {.uuid = &control_uuid.u, .access_cb = control_access,
                 .flags = BLE_GATT_CHR_F_WRITE | BLE_GATT_CHR_F_NOTIFY, .val_handle = &control_handle},
                {0},
            },
    },
    {0},
};

/* ---------------------------------------------------------------- GAP */

static int gap_event(struct ble_gap_event *event, void *arg);

static void advertise(void)
{
    uint8_t adv[INSOLE_ADVERTISING_DATA_SIZE];
    uint8_t rsp[INSOLE_SCAN_RESPONSE_SIZE];
    struct ble_gap_adv_params params = {0};

    insole_encode_advertising_data(adv, sizeof adv, dev.foot, dev.serial, dev.battery_pct);
    insole_encode_scan_response(rsp, sizeof rsp, dev.foot, dev.serial);
    ble_gap_adv_set_data(adv, sizeof adv);
    ble_gap_adv_rsp_set_data(rsp, sizeof rsp);
    params.conn_mode = BLE_GAP_CONN_MODE_UND; /* ADV_IND */
    params.disc_mode = BLE_GAP_DISC_MODE_GEN;
    params.itvl_min = BLE_GAP_ADV_ITVL_MS(100);
    params.itvl_max = BLE_GAP_ADV_ITVL_MS(100);
    ble_gap_adv_start(own_addr_type, NULL, BLE_HS_FOREVER, &params, gap_event, NULL);
}

static int gap_event(struct ble_gap_event *event, void *arg)
{
    (void)arg;
    switch (event->type) {
    case BLE_GAP_EVENT_CONNECT:
        if (event->connect.status != 0) {
            advertise();
            break;
        }
        conn_handle = event->connect.conn_handle;
        xSemaphoreTake(dev_lock, portMAX_DELAY);
        insole_device_on_connect(&dev);
        xSemaphoreGive(dev_lock);
        ble_gattc_exchange_mtu(conn_handle, NULL, NULL); /* ask for 247 ourselves */
        break;
    case BLE_GAP_EVENT_DISCONNECT:
        conn_handle = BLE_HS_CONN_HANDLE_NONE;
        xSemaphoreTake(dev_lock, portMAX_DELAY);
        insole_device_on_disconnect(&dev); /* streaming stops */
        xSemaphoreGive(dev_lock);
        advertise();
        break;
    case BLE_GAP_EVENT_MTU:
        xSemaphoreTake(dev_lock, portMAX_DELAY);
        insole_device_set_att_mtu(&dev, event->mtu.value);
        xSemaphoreGive(dev_lock);
        break;
    case BLE_GAP_EVENT_SUBSCRIBE:
        if (event->subscribe.attr_handle == data_handle) {
            xSemaphoreTake(dev_lock, portMAX_DELAY);
            insole_device_set_data_notify(&dev, event->subscribe.cur_notify);
            xSemaphoreGive(dev_lock);
        }
        break;
    case BLE_GAP_EVENT_ADV_COMPLETE:
        advertise();
        break;
    default:
        break;
    }
    return 0;
}

static void on_sync(void)
{
    ble_hs_util_ensure_addr(0);
    ble_hs_id_infer_auto(0, &own_addr_type);
    advertise();
}

static void host_task(void *param)
{
    (void)param;
    nimble_port_run();
    nimble_port_freertos_deinit();
}

/* ---------------------------------------------------------------- boot */

static uint32_t board_serial(void)
{
    uint8_t mac[6];
    esp_read_mac(mac, ESP_MAC_BT);
    return ((uint32_t)mac[2] << 24) | ((uint32_t)mac[3] << 16) | ((uint32_t)mac[4] << 8) | mac[5];
}

void app_main(void)
{
    char name[INSOLE_LOCAL_NAME_LEN + 1];
    char serial_text[9];
    char firmware_text[12] = "1.0.0";

    nvs_flash_init();
    dev_lock = xSemaphoreCreateMutexStatic(&dev_lock_storage);
    insole_device_init(&dev, FOOT, board_serial(), FW_MAJOR, FW_MINOR, FW_PATCH, FULL_SCALE_CODE, false);
    insole_device_set_battery(&dev, INSOLE_BATTERY_UNKNOWN); /* update from your fuel gauge */
    for (unsigned k = 0; k < INSOLE_N_SENSORS; ++k) {
        cal_gain[k] = 1.0f; /* placeholders: load your calibration from NVS */
        cal_offset[k] = 0.0f;
    }

    for (unsigned bit = 0; bit < 4; ++bit) {
        gpio_reset_pin(MUX_SELECT[bit]);
        gpio_set_direction(MUX_SELECT[bit], GPIO_MODE_OUTPUT);
    }
    adc_oneshot_unit_init_cfg_t unit = {.unit_id = ADC_UNIT_1};
    adc_oneshot_new_unit(&unit, &adc);
    adc_oneshot_chan_cfg_t channel = {.bitwidth = ADC_BITWIDTH_12, .atten = ADC_ATTEN_DB_12};
    adc_oneshot_config_channel(adc, FSR_ADC_CHANNEL, &channel);
    const esp_timer_create_args_t timer_args = {.callback = sample_tick, .name = "insole-sample"};
    esp_timer_create(&timer_args, &sample_timer);

    nimble_port_init();
    ble_hs_cfg.sync_cb = on_sync;
    ble_att_set_preferred_mtu(INSOLE_PREFERRED_ATT_MTU);
    ble_svc_gap_init();
    ble_svc_gatt_init();
    ble_svc_bas_init();
    ble_svc_dis_init();
    insole_local_name(name, sizeof name, dev.foot, dev.serial);
    ble_svc_gap_device_name_set(name);
    insole_serial_string(serial_text, sizeof serial_text, dev.serial);
    ble_svc_dis_manufacturer_name_set("insole project"); /* or your own */
    ble_svc_dis_model_number_set("insole16");
    ble_svc_dis_serial_number_set(serial_text);
    ble_svc_dis_firmware_revision_set(firmware_text);
    ble_gatts_count_cfg(gatt_services);
    ble_gatts_add_svcs(gatt_services);
    nimble_port_freertos_init(host_task);
}
