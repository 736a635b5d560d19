/* client.c: the client role (create, next, attach, mark, best, pareto, attach_baseline,
 * predict, status, list). */
#include "metrics.h"
#include "points.h"
#include "result.h"
#include "transport.h"

#include <stdlib.h>

#define S_MAX_NEXT 1000

struct _hone_client_t {
    hone_transport_t *transport;    /* the connection to the broker */
    hone_error_t last;              /* the last error, for hone_client_last_error */
};

int hone_client_open(hone_client_t **out, const char *endpoint, const hone_options_t *opts)
{
    if (!out)
        return HONE_EINVAL;
    *out = NULL;
    hone_client_t *self = calloc(1, sizeof *self);
    if (!self)
        return HONE_ENOMEM;
    int rc = hone_transport_open(&self->transport, endpoint, opts, &self->last);
    if (rc != HONE_OK) {
        free(self);
        return rc;
    }
    *out = self;
    return HONE_OK;
}

void hone_client_destroy(hone_client_t **client_p)
{
    if (!client_p || !*client_p)
        return;
    hone_transport_destroy(&(*client_p)->transport);
    free(*client_p);
    *client_p = NULL;
}

const char *hone_client_last_error(const hone_client_t *client)
{
    return client ? client->last.message : "";
}

void hone_client_set_log(hone_client_t *client, hone_log_fn *fn, void *arg)
{
    if (client)
        hone_transport_set_log(client->transport, fn, arg);
}

int hone_client_set_curve(hone_client_t *client, const char *key_path, const char *broker_key_path)
{
    if (!client)
        return HONE_EINVAL;
    hone_error_clear(&client->last);
    return hone_transport_set_curve(client->transport, key_path, broker_key_path, &client->last);
}

/* Checks the arguments every experiment request shares and starts the request. */
static int s_begin(hone_client_t *self, hone_msg_id_t id, const char *experiment, hone_msg_t **req)
{
    *req = NULL;
    if (!experiment || !*experiment)
        return hone_error_set(&self->last, HONE_EINVAL, "the experiment name must not be empty");
    return hone_transport_request(id, experiment, req, &self->last);
}

static int s_set_trial(hone_client_t *self, hone_msg_t *req, uint64_t trial)
{
    if (trial > (uint64_t) INT64_MAX)
        return hone_error_set(&self->last, HONE_EINVAL, "trial index %llu is out of range",
                              (unsigned long long) trial);
    if (hone_msg_set_int(req, "trial", (int64_t) trial) != HONE_OK)
        return hone_error_set(&self->last, HONE_ENOMEM, "out of memory");
    return HONE_OK;
}

/* Sends *req (destroyed here) and expects an `ok` reply. */
static int s_call(hone_client_t *self, hone_msg_t **req, hone_msg_t **reply)
{
    int rc = hone_transport_call(self->transport, *req, reply, &self->last);
    const char *sent = hone_msg_name(hone_msg_id(*req));
    if (rc == HONE_OK && hone_msg_id(*reply) != HONE_MSG_OK) {
        const char *got = hone_msg_name(hone_msg_id(*reply));
        rc = hone_error_set(&self->last, HONE_EPROTO, "unexpected reply '%s' to '%s'", got ? got : "?",
                            sent ? sent : "?");
        hone_msg_destroy(reply);
    }
    hone_msg_destroy(req);
    return rc;
}

int hone_client_create(hone_client_t *client, const char *config_json, char **name_out)
{
    if (!client)
        return HONE_EINVAL;
    hone_error_clear(&client->last);
    if (name_out)
        *name_out = NULL;
    if (!config_json || !*config_json)
        return hone_error_set(&client->last, HONE_EINVAL, "the configuration must not be empty");
    hone_msg_t *req = NULL, *reply = NULL;
    int rc = hone_transport_request(HONE_MSG_CREATE, NULL, &req, &client->last);
    if (rc == HONE_OK && hone_msg_set_str(req, "config", config_json) != HONE_OK)
        rc = hone_error_set(&client->last, HONE_ENOMEM, "out of memory");
    if (rc == HONE_OK)
        rc = s_call(client, &req, &reply);
    hone_msg_destroy(&req);
    if (rc != HONE_OK)
        return rc;
    const char *name = NULL;
    rc = hone_msg_get_str(reply, "experiment", &name, &client->last);
    if (rc != HONE_OK)
        rc = HONE_EPROTO;
    else if (name_out && !(*name_out = strdup(name)))
        rc = hone_error_set(&client->last, HONE_ENOMEM, "out of memory");
    hone_msg_destroy(&reply);
    return rc;
}

int hone_client_next_trials(hone_client_t *client, const char *experiment, uint32_t count,
                            hone_trial_list_t **list_out)
{
    if (!client)
        return HONE_EINVAL;
    hone_error_clear(&client->last);
    if (!list_out)
        return hone_error_set(&client->last, HONE_EINVAL, "list_out must not be NULL");
    *list_out = NULL;
    if (count < 1 || count > S_MAX_NEXT)
        return hone_error_set(&client->last, HONE_EINVAL, "count must be between 1 and %d (got %u)",
                              S_MAX_NEXT, (unsigned) count);
    hone_msg_t *req = NULL, *reply = NULL;
    int rc = s_begin(client, HONE_MSG_NEXT, experiment, &req);
    if (rc == HONE_OK && hone_msg_set_int(req, "count", count) != HONE_OK)
        rc = hone_error_set(&client->last, HONE_ENOMEM, "out of memory");
    if (rc == HONE_OK)
        rc = s_call(client, &req, &reply);
    hone_msg_destroy(&req);
    if (rc != HONE_OK)
        return rc;
    rc = hone_result_list_parse(hone_msg_get(reply, "trials"), experiment, list_out, &client->last);
    if (rc == HONE_OK && hone_trial_list_count(*list_out) == 0) {
        hone_trial_list_destroy(list_out);
        rc = hone_error_set(&client->last, HONE_EPROTO, "the broker replied to 'next' with no trial");
    }
    hone_msg_destroy(&reply);
    return rc;
}

/* attach and mark share: experiment, trial, optional metrics and progression. */
static int s_readings_request(hone_client_t *self, hone_msg_id_t id, const char *experiment, uint64_t trial,
                              size_t n, const char *const names[], const double means[], const double sems[],
                              bool allow_empty, hone_msg_t **req)
{
    int rc = hone_metrics_check(n, names, means, sems, allow_empty, &self->last);
    if (rc == HONE_OK)
        rc = s_begin(self, id, experiment, req);
    if (rc == HONE_OK)
        rc = s_set_trial(self, *req, trial);
    if (rc == HONE_OK)
        rc = hone_metrics_put(*req, n, names, means, sems, &self->last);
    return rc;
}

int hone_client_attach(hone_client_t *client, const char *experiment, uint64_t trial,
                       size_t n, const char *const metric_names[], const double means[],
                       const double sems[], bool has_progression, int64_t progression)
{
    if (!client)
        return HONE_EINVAL;
    hone_error_clear(&client->last);
    hone_msg_t *req = NULL, *reply = NULL;
    int rc = s_readings_request(client, HONE_MSG_ATTACH, experiment, trial, n, metric_names, means, sems,
                                false, &req);
    if (rc == HONE_OK && has_progression && hone_msg_set_int(req, "progression", progression) != HONE_OK)
        rc = hone_error_set(&client->last, HONE_ENOMEM, "out of memory");
    if (rc == HONE_OK)
        rc = s_call(client, &req, &reply);
    hone_msg_destroy(&req);
    hone_msg_destroy(&reply);
    return rc;
}

static int s_mark(hone_client_t *client, const char *experiment, uint64_t trial, const char *status_name,
                  const char *reason, size_t n, const char *const names[], const double means[],
                  const double sems[])
{
    hone_error_clear(&client->last);
    if (!status_name || !*status_name)
        return hone_error_set(&client->last, HONE_EINVAL, "the status name must not be empty");
    hone_msg_t *req = NULL, *reply = NULL;
    int rc = s_readings_request(client, HONE_MSG_MARK, experiment, trial, n, names, means, sems, true, &req);
    if (rc == HONE_OK && (hone_msg_set_str(req, "status", status_name) != HONE_OK
                          || (reason && hone_msg_set_str(req, "reason", reason) != HONE_OK)))
        rc = hone_error_set(&client->last, HONE_ENOMEM, "out of memory");
    if (rc == HONE_OK)
        rc = s_call(client, &req, &reply);
    hone_msg_destroy(&req);
    hone_msg_destroy(&reply);
    return rc;
}

int hone_client_complete(hone_client_t *client, const char *experiment, uint64_t trial,
                         size_t n, const char *const metric_names[], const double means[],
                         const double sems[])
{
    if (!client)
        return HONE_EINVAL;
    return s_mark(client, experiment, trial, "COMPLETED", NULL, n, metric_names, means, sems);
}

int hone_client_mark(hone_client_t *client, const char *experiment, uint64_t trial,
                     const char *status_name, const char *reason)
{
    if (!client)
        return HONE_EINVAL;
    return s_mark(client, experiment, trial, status_name, reason, 0, NULL, NULL, NULL);
}

/* best, status and list: a request with only the experiment's name. */
static int s_query(hone_client_t *self, hone_msg_id_t id, const char *experiment, void *out,
                   hone_msg_t **reply)
{
    hone_error_clear(&self->last);
    if (!out)
        return hone_error_set(&self->last, HONE_EINVAL, "the output pointer must not be NULL");
    hone_msg_t *req = NULL;
    int rc = s_begin(self, id, experiment, &req);
    if (rc == HONE_OK)
        rc = s_call(self, &req, reply);
    hone_msg_destroy(&req);
    return rc;
}

int hone_client_best(hone_client_t *client, const char *experiment, hone_best_t **best_out)
{
    if (!client)
        return HONE_EINVAL;
    if (best_out)
        *best_out = NULL;
    hone_msg_t *reply = NULL;
    int rc = s_query(client, HONE_MSG_BEST, experiment, best_out, &reply);
    if (rc == HONE_OK)
        rc = hone_result_best_parse(hone_msg_body_const(reply), experiment, best_out, &client->last);
    hone_msg_destroy(&reply);
    return rc;
}

int hone_client_pareto(hone_client_t *client, const char *experiment, bool use_model, hone_pareto_t **pareto_out)
{
    if (!client)
        return HONE_EINVAL;
    hone_error_clear(&client->last);
    if (!pareto_out)
        return hone_error_set(&client->last, HONE_EINVAL, "pareto_out must not be NULL");
    *pareto_out = NULL;
    hone_msg_t *req = NULL, *reply = NULL;
    int rc = s_begin(client, HONE_MSG_PARETO, experiment, &req);
    if (rc == HONE_OK && hone_msg_set_bool(req, "use_model", use_model) != HONE_OK)
        rc = hone_error_set(&client->last, HONE_ENOMEM, "out of memory");
    if (rc == HONE_OK)
        rc = s_call(client, &req, &reply);
    hone_msg_destroy(&req);
    if (rc == HONE_OK)
        rc = hone_result_pareto_parse(hone_msg_body_const(reply), experiment, pareto_out, &client->last);
    hone_msg_destroy(&reply);
    return rc;
}

int hone_client_attach_baseline(hone_client_t *client, const char *experiment, const hone_points_t *params,
                                uint64_t *trial_out)
{
    if (!client)
        return HONE_EINVAL;
    hone_error_clear(&client->last);
    if (!trial_out)
        return hone_error_set(&client->last, HONE_EINVAL, "trial_out must not be NULL");
    *trial_out = 0;
    if (hone_points_count(params) != 1)
        return hone_error_set(&client->last, HONE_EINVAL, "params must hold exactly one point (got %zu)",
                              hone_points_count(params));
    hone_msg_t *req = NULL, *reply = NULL;
    int rc = s_begin(client, HONE_MSG_ATTACH_BASELINE, experiment, &req);
    if (rc == HONE_OK
        && !hone_node_add_copy(hone_msg_body(req), "params", hone_node_at(hone_points_array(params), 0)))
        rc = hone_error_set(&client->last, HONE_ENOMEM, "out of memory");
    if (rc == HONE_OK)
        rc = s_call(client, &req, &reply);
    hone_msg_destroy(&req);
    if (rc != HONE_OK)
        return rc;
    int64_t trial = -1;
    hone_error_t why;
    if (hone_msg_get_int(reply, "trial", &trial, &why) != HONE_OK)
        rc = hone_error_set(&client->last, HONE_EPROTO, "reply to 'attach_baseline': %s", why.message);
    else if (trial < 0)
        rc = hone_error_set(&client->last, HONE_EPROTO, "reply to 'attach_baseline': field 'trial' must be uint, "
                            "not %lld", (long long) trial);
    else
        *trial_out = (uint64_t) trial;
    hone_msg_destroy(&reply);
    return rc;
}

int hone_client_predict(hone_client_t *client, const char *experiment, const hone_points_t *points,
                        hone_prediction_t **prediction_out)
{
    return hone_client_predict_metric(client, experiment, NULL, points, prediction_out);
}

int hone_client_predict_metric(hone_client_t *client, const char *experiment, const char *metric,
                               const hone_points_t *points, hone_prediction_t **prediction_out)
{
    if (!client)
        return HONE_EINVAL;
    hone_error_clear(&client->last);
    if (!prediction_out)
        return hone_error_set(&client->last, HONE_EINVAL, "prediction_out must not be NULL");
    *prediction_out = NULL;
    size_t n = hone_points_count(points);
    if (n < 1 || n > HONE_PROTO_PREDICT_MAX)
        return hone_error_set(&client->last, HONE_EINVAL, "predict needs 1 to %d points (got %zu)",
                              HONE_PROTO_PREDICT_MAX, n);
    hone_msg_t *req = NULL, *reply = NULL;
    int rc = s_begin(client, HONE_MSG_PREDICT, experiment, &req);
    if (rc == HONE_OK && !hone_node_add_copy(hone_msg_body(req), "points", hone_points_array(points)))
        rc = hone_error_set(&client->last, HONE_ENOMEM, "out of memory");
    if (rc == HONE_OK && metric && !hone_node_add_str(hone_msg_body(req), "metric", metric))
        rc = hone_error_set(&client->last, HONE_ENOMEM, "out of memory");
    if (rc == HONE_OK)
        rc = s_call(client, &req, &reply);
    hone_msg_destroy(&req);
    if (rc == HONE_OK)
        rc = hone_result_prediction_parse(hone_msg_body_const(reply), n, prediction_out, &client->last);
    hone_msg_destroy(&reply);
    return rc;
}

int hone_client_status(hone_client_t *client, const char *experiment, hone_status_t **status_out)
{
    if (!client)
        return HONE_EINVAL;
    if (status_out)
        *status_out = NULL;
    hone_msg_t *reply = NULL;
    int rc = s_query(client, HONE_MSG_STATUS, experiment, status_out, &reply);
    if (rc == HONE_OK)
        rc = hone_result_status_parse(hone_msg_body_const(reply), status_out, &client->last);
    hone_msg_destroy(&reply);
    return rc;
}

int hone_client_list(hone_client_t *client, const char *experiment, hone_trial_list_t **list_out)
{
    if (!client)
        return HONE_EINVAL;
    if (list_out)
        *list_out = NULL;
    hone_msg_t *reply = NULL;
    int rc = s_query(client, HONE_MSG_LIST, experiment, list_out, &reply);
    if (rc == HONE_OK)
        rc = hone_result_list_parse(hone_msg_get(reply, "trials"), experiment, list_out, &client->last);
    hone_msg_destroy(&reply);
    return rc;
}

/* `list` of one trial (trial >= 0) or all, with or without curves. */
static int s_list_request(hone_client_t *self, const char *experiment, int64_t trial, bool curves,
                          hone_trial_list_t **list_out)
{
    hone_msg_t *req = NULL, *reply = NULL;
    int rc = s_begin(self, HONE_MSG_LIST, experiment, &req);
    if (rc == HONE_OK && trial >= 0)
        rc = s_set_trial(self, req, (uint64_t) trial);
    if (rc == HONE_OK && curves && hone_msg_set_bool(req, "curves", true) != HONE_OK)
        rc = hone_error_set(&self->last, HONE_ENOMEM, "out of memory");
    if (rc == HONE_OK)
        rc = s_call(self, &req, &reply);
    hone_msg_destroy(&req);
    if (rc == HONE_OK)
        rc = hone_result_list_parse(hone_msg_get(reply, "trials"), experiment, list_out, &self->last);
    hone_msg_destroy(&reply);
    return rc;
}

int hone_client_list_curves(hone_client_t *client, const char *experiment, hone_trial_list_t **list_out)
{
    if (!client)
        return HONE_EINVAL;
    hone_error_clear(&client->last);
    if (!list_out)
        return hone_error_set(&client->last, HONE_EINVAL, "list_out must not be NULL");
    *list_out = NULL;
    return s_list_request(client, experiment, -1, true, list_out);
}

int hone_client_trial(hone_client_t *client, const char *experiment, uint64_t trial, bool curves,
                      hone_trial_t **trial_out)
{
    if (!client)
        return HONE_EINVAL;
    hone_error_clear(&client->last);
    if (!trial_out)
        return hone_error_set(&client->last, HONE_EINVAL, "trial_out must not be NULL");
    *trial_out = NULL;
    if (trial > (uint64_t) INT64_MAX)
        return hone_error_set(&client->last, HONE_EINVAL, "trial index %llu is out of range",
                              (unsigned long long) trial);
    hone_trial_list_t *list = NULL;
    int rc = s_list_request(client, experiment, (int64_t) trial, curves, &list);
    if (rc != HONE_OK)
        return rc;
    const hone_trial_t *only = hone_trial_list_at(list, 0);
    if (hone_trial_list_count(list) != 1 || hone_trial_index(only) != trial)
        rc = hone_error_set(&client->last, HONE_EPROTO, "the broker's reply to 'list' does not hold trial %llu "
                            "alone (a broker without the `trial` field of list?)", (unsigned long long) trial);
    else if (hone_trial_dup(only, trial_out) != HONE_OK)
        rc = hone_error_set(&client->last, HONE_ENOMEM, "out of memory");
    hone_trial_list_destroy(&list);
    return rc;
}

int hone_client_should_stop(hone_client_t *client, const char *experiment, uint64_t trial, bool *stop_out,
                            char **reason_out)
{
    if (!client)
        return HONE_EINVAL;
    hone_error_clear(&client->last);
    if (reason_out)
        *reason_out = NULL;
    if (!stop_out)
        return hone_error_set(&client->last, HONE_EINVAL, "stop_out must not be NULL");
    *stop_out = false;
    hone_msg_t *req = NULL, *reply = NULL;
    int rc = s_begin(client, HONE_MSG_SHOULD_STOP, experiment, &req);
    if (rc == HONE_OK)
        rc = s_set_trial(client, req, trial);
    if (rc == HONE_OK)
        rc = s_call(client, &req, &reply);
    hone_msg_destroy(&req);
    if (rc != HONE_OK)
        return rc;
    bool stop = false;
    const char *reason = "";
    hone_error_t why;
    if (hone_msg_get_bool(reply, "stop", &stop, &why) != HONE_OK)
        rc = hone_error_set(&client->last, HONE_EPROTO, "reply to 'should_stop': %s", why.message);
    else if (hone_msg_get_str(reply, "reason", &reason, &why) == HONE_EPROTO)
        rc = hone_error_set(&client->last, HONE_EPROTO, "reply to 'should_stop': %s", why.message);
    if (rc == HONE_OK && reason_out && !(*reason_out = strdup(reason)))
        rc = hone_error_set(&client->last, HONE_ENOMEM, "out of memory");
    if (rc == HONE_OK)
        *stop_out = stop;
    hone_msg_destroy(&reply);
    return rc;
}
