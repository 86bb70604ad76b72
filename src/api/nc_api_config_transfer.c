
/*
 * nacre: Nacos' config export and import, as its console does them.
 *
 *   GET  /nacos/v1/cs/configs?exportV2=true   a zip: <group>/<dataId> for
 *        (or ?export=true)                    each item, and .metadata.yml
 *                                             (v2: type, appName, desc) or
 *                                             .meta.yml (v1: appName)
 *        filters: tenant, group, dataId, appName, ids
 *   POST /nacos/v1/cs/configs?import=true     multipart "file": such a zip,
 *        &namespace=&policy=ABORT|SKIP|OVERWRITE
 *
 * Imports are publishes, one after another: SKIP and ABORT publish only
 * what does not exist (checked where it is applied, so a concurrent
 * writer is never overwritten).  ABORT imports nothing when any item
 * exists already (Nacos stops at the first, after those before it).
 * The zip framing is ours (nc_zip.c); the metadata is YAML (libfyaml).
 */

#include <nc_config.h>
#include <nc_core.h>
#include <nc_http.h>
#include <nc_json.h>
#include <nc_zip.h>
#include <nc_store.h>
#include <nc_store_config.h>
#include <nc_auth.h>
#include <nc_api.h>
#include <nc_api_config.h>

#include <libfyaml.h>


#define NC_API_IMPORT_MAX_ENTRIES  10000
#define NC_API_IMPORT_MAX_TOTAL    (256 * 1024 * 1024)

#define NC_API_IMPORT_ABORT        0
#define NC_API_IMPORT_SKIP         1
#define NC_API_IMPORT_OVERWRITE    2


typedef struct {
    nc_str_t                 group;
    nc_str_t                 data_id;
    nc_str_t                 content;
    nc_str_t                 type;
    nc_str_t                 app;
    nc_str_t                 desc;
} nc_api_import_item_t;


typedef struct {
    nc_str_t                 ns;
    nc_uint_t                policy;
    nc_array_t              *items;       /* nc_api_import_item_t */
    nc_uint_t                next;
    nc_uint_t                succ;
    nc_api_json_t            skipped;
    nc_api_json_t            failed;
    nc_api_json_t            unrecognized;
    nc_uint_t                nskipped;
    nc_uint_t                nunrecognized;
    nc_uint_t                nfailed;
} nc_api_import_t;


static void nc_api_export_metadata(nc_api_json_t *meta, nc_flag_t v2,
    const nc_str_t *group, const nc_str_t *data_id,
    const nc_store_record_t *rec);
static nc_int_t nc_api_import_metadata(nc_http_request_t *r,
    nc_api_import_t *im, const nc_zip_entry_t *entry);
static nc_int_t nc_api_import_next(nc_http_request_t *r, nc_api_import_t *im);
static void nc_api_import_written(nc_http_request_t *r, void *data,
    nc_int_t status, uint64_t index);
static nc_int_t nc_api_import_answer(nc_http_request_t *r,
    nc_api_import_t *im);
static void nc_api_import_note(nc_api_json_t *j, const nc_str_t *group,
    const nc_str_t *data_id);
static void nc_api_import_splice(nc_api_json_t *j, const nc_api_json_t *items);
static nc_flag_t nc_api_import_name(const nc_str_t *s, size_t max);
static void nc_api_export_append(nc_api_json_t *j, const u_char *p,
    size_t len);


nc_int_t
nc_api_config_export(nc_http_request_t *r, nc_flag_t v2)
{
    u_char                    *p, *k, *slash;
    size_t                     plen;
    nc_int_t                   rc;
    nc_str_t                   ns, none, want_group, want_id, want_app, ids,
                               group, data_id, f, one;
    nc_flag_t                  listed;
    nc_api_json_t              meta;
    nc_store_iter_t           *it;
    nc_zip_writer_t            zip;
    const nc_store_record_t   *rec;
    const nc_store_version_t  *v;
    u_char                     prefix[NC_STORE_MAX_KEY_LEN];
    u_char                     name[NC_STORE_MAX_KEY_LEN];
    char                       id[24], disposition[96];
    time_t                     now;
    struct tm                  tm;

    rc = nc_api_config_namespace(r, NC_API_V1, &ns);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    none.len = 0;
    none.data = NULL;

    rc = nc_auth_permit(r, &ns, &none, "config", &none, NC_AUTH_READ);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    nc_api_param(r, "group", &want_group);

    nc_api_param(r, "dataId", &want_id);

    nc_api_param(r, "appName", &want_app);

    nc_api_param(r, "ids", &ids);

    it = nc_palloc(r->pool, sizeof(nc_store_iter_t));
    if (it == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    plen = nc_api_config_ns_prefix(prefix, &ns);

    nc_zip_writer_init(&zip, r->pool);
    nc_api_json_init(&meta, r->pool);

    if (v2) {
        nc_api_export_append(&meta, (u_char *) "metadata:\n", 10);
    }

    v = nc_store_enter(nc_store);

    if (v) {
        nc_store_iter_init(it, nc_store, v->root, prefix, plen, NULL, 0);
    }

    while (v && zip.rc == NC_OK && (rec = nc_store_iter_next(it)) != NULL) {
        if (rec->type != NC_STORE_T_CONFIG) {
            continue;
        }

        k = (u_char *) nc_store_record_key(rec) + plen;
        slash = memchr(k, '/', rec->key_len - plen);

        if (slash == NULL) {
            continue;
        }

        group.data = k;
        group.len = slash - k;
        data_id.data = slash + 1;
        data_id.len = nc_store_record_key(rec) + rec->key_len - slash - 1;

        nc_store_config_field(rec, NC_STORE_CONFIG_F_APP, &f);

        if (!nc_api_match(0, &want_group, group.data, group.len)
            || !nc_api_match(0, &want_id, data_id.data, data_id.len)
            || !nc_api_match(0, &want_app, f.data, f.len))
        {
            continue;
        }

        if (ids.len) {
            (void) snprintf(id, sizeof(id), "%" PRIu64,
                            nc_store_config_head(rec)->id);
            one.data = (u_char *) id;
            one.len = strlen(id);

            listed = nc_api_match_list(&one, ids.data, ids.len);

            if (!listed) {
                continue;
            }
        }

        /* <group>/<dataId> */
        p = nc_cpymem(name, group.data, group.len);
        *p++ = '/';
        p = nc_cpymem(p, data_id.data, data_id.len);

        nc_store_config_field(rec, NC_STORE_CONFIG_F_CONTENT, &f);
        nc_zip_add(&zip, name, p - name, f.data, f.len);

        nc_api_export_metadata(&meta, v2, &group, &data_id, rec);
    }

    nc_store_leave(nc_store);

    if (meta.rc != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (v2) {
        nc_zip_add(&zip, (u_char *) ".metadata.yml", 13, meta.out.pos,
                   nc_buf_size(&meta.out));

    } else {
        nc_zip_add(&zip, (u_char *) ".meta.yml", 9, meta.out.pos,
                   nc_buf_size(&meta.out));
    }

    if (nc_zip_finish(&zip) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    now = time(NULL);
    (void) gmtime_r(&now, &tm);
    (void) strftime(disposition, sizeof(disposition),
                    "attachment;filename=nacos_config_export_%Y%m%d%H%M%S.zip",
                    &tm);

    one.data = nc_pnalloc(r->pool, strlen(disposition));
    if (one.data == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    one.len = strlen(disposition);
    nc_memcpy(one.data, disposition, one.len);

    if (nc_http_add_header(r, "Content-Disposition", &one) != NC_OK) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* already compressed */
    r->headers_out.gzip = 0;

    return nc_http_set_response(r, NC_HTTP_OK, "application/zip",
                                zip.out.pos, nc_buf_size(&zip.out));
}


/*
 * v2: a YAML list of {dataId, group, type, appName, desc}, each value a
 * double-quoted scalar (JSON's escapes are YAML's too).  v1: Java
 * properties "<group>.<dataId>.app=<appName>" for items with an app.
 */
static void
nc_api_export_metadata(nc_api_json_t *meta, nc_flag_t v2,
    const nc_str_t *group, const nc_str_t *data_id,
    const nc_store_record_t *rec)
{
    nc_uint_t  i;
    nc_str_t   f;

    static const struct {
        const char  *key;
        nc_uint_t    field;
    } fields[] = {
        { "\n  type: ", NC_STORE_CONFIG_F_TYPE },
        { "\n  appName: ", NC_STORE_CONFIG_F_APP },
        { "\n  desc: ", NC_STORE_CONFIG_F_DESC },
    };

    if (!v2) {
        nc_store_config_field(rec, NC_STORE_CONFIG_F_APP, &f);

        if (f.len == 0 || memchr(f.data, '\n', f.len)) {
            return;
        }

        nc_api_export_append(meta, group->data, group->len);
        nc_api_export_append(meta, (u_char *) ".", 1);
        nc_api_export_append(meta, data_id->data, data_id->len);
        nc_api_export_append(meta, (u_char *) ".app=", 5);
        nc_api_export_append(meta, f.data, f.len);
        nc_api_export_append(meta, (u_char *) "\n", 1);
        return;
    }

    nc_api_export_append(meta, (u_char *) "- dataId: ", 10);
    nc_api_json_str(meta, NULL, data_id->data, data_id->len);
    nc_api_export_append(meta, (u_char *) "\n  group: ", 10);
    nc_api_json_str(meta, NULL, group->data, group->len);

    for (i = 0; i < nc_nelems(fields); i++) {
        nc_store_config_field(rec, fields[i].field, &f);
        nc_api_export_append(meta, (u_char *) fields[i].key,
                             strlen(fields[i].key));
        nc_api_json_str(meta, NULL, f.data, f.len);
    }

    nc_api_export_append(meta, (u_char *) "\n", 1);
}


/* bytes as they are, no JSON separators */
static void
nc_api_export_append(nc_api_json_t *j, const u_char *p, size_t len)
{
    if (j->rc == NC_OK && len
        && nc_buf_append(j->pool, &j->out, p, len) != NC_OK)
    {
        j->rc = NC_ERROR;
    }

    j->comma = 0;
}


nc_int_t
nc_api_config_import(nc_http_request_t *r)
{
    u_char                *slash;
    nc_int_t               rc;
    nc_uint_t              i;
    nc_str_t               file, v, none;
    nc_array_t            *entries;
    nc_zip_entry_t        *e;
    const char            *err;
    nc_flag_t              exists;
    nc_api_import_t       *im;
    nc_api_config_name_t   name;
    nc_api_import_item_t  *item;
    const nc_store_version_t  *sv;

    im = nc_pcalloc(r->pool, sizeof(nc_api_import_t));
    if (im == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the target: ?namespace= (Nacos' name here), or tenant */
    if (nc_http_param(r, "namespace", &im->ns) != NC_OK
        && nc_http_param(r, "tenant", &im->ns) != NC_OK)
    {
        im->ns.len = 0;
    }

    if (nc_auth_public_namespace(&im->ns)) {
        im->ns.len = 0;
    }

    none.len = 0;
    none.data = NULL;

    rc = nc_auth_permit(r, &im->ns, &none, "config", &none, NC_AUTH_WRITE);
    if (rc != NC_OK) {
        return nc_api_end(rc);
    }

    sv = nc_store_enter(nc_store);
    exists = sv && nc_api_namespace_exists(sv, &im->ns);
    nc_store_leave(nc_store);

    if (!exists) {
        return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                             NC_API_CONFIG_E_NAMESPACE,
                                             "namespace '%.*s' does not "
                                             "exist", nc_str_fmt(&im->ns)));
    }

    im->policy = NC_API_IMPORT_ABORT;

    if (nc_http_param(r, "policy", &v) == NC_OK && v.len) {
        if (v.len == 4 && nc_strncasecmp(v.data, (u_char *) "SKIP", 4) == 0) {
            im->policy = NC_API_IMPORT_SKIP;

        } else if (v.len == 9
                   && nc_strncasecmp(v.data, (u_char *) "OVERWRITE", 9) == 0)
        {
            im->policy = NC_API_IMPORT_OVERWRITE;

        } else if (v.len != 5
                   || nc_strncasecmp(v.data, (u_char *) "ABORT", 5) != 0)
        {
            return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                                 NC_API_CONFIG_E_INVALID,
                                                 "policy is ABORT, SKIP or "
                                                 "OVERWRITE"));
        }
    }

    rc = nc_http_multipart(r, "file", &file);

    if (rc != NC_OK) {
        return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                             NC_API_CONFIG_E_MISSING,
                                             "a multipart/form-data body "
                                             "with the zip as \"file\" is "
                                             "required"));
    }

    if (nc_zip_read(r->pool, file.data, file.len, NC_API_IMPORT_MAX_ENTRIES,
                    nc_api_config_conf->max_content_size, NC_API_IMPORT_MAX_TOTAL,
                    &entries, &err) != NC_OK)
    {
        return nc_api_end(nc_api_config_fail(r, NC_API_V1,
                                             NC_API_CONFIG_E_INVALID,
                                             "the zip cannot be read: %s",
                                             err));
    }

    im->items = nc_array_create(r->pool, entries->nelts ? entries->nelts : 1,
                                sizeof(nc_api_import_item_t));
    if (im->items == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    nc_api_json_init(&im->skipped, r->pool);
    nc_api_json_init(&im->failed, r->pool);
    nc_api_json_init(&im->unrecognized, r->pool);

    e = entries->elts;

    for (i = 0; i < entries->nelts; i++) {
        if (e[i].name.len == 9 && nc_memcmp(e[i].name.data, ".meta.yml", 9)
                                  == 0)
        {
            continue;
        }

        slash = memchr(e[i].name.data, '/', e[i].name.len);

        if (slash == NULL) {
            goto unrecognized;
        }

        item = nc_array_push(im->items);
        if (item == NULL) {
            return NC_HTTP_INTERNAL_SERVER_ERROR;
        }

        nc_memzero(item, sizeof(nc_api_import_item_t));
        item->group.data = e[i].name.data;
        item->group.len = slash - e[i].name.data;
        item->data_id.data = slash + 1;
        item->data_id.len = e[i].name.data + e[i].name.len - slash - 1;
        item->content.data = e[i].data;
        item->content.len = e[i].len;

        if (nc_api_import_name(&item->group, 128)
            && nc_api_import_name(&item->data_id, 256)
            && item->content.len)
        {
            continue;
        }

        im->items->nelts--;

    unrecognized:

        /* metadata is not an item */
        if (e[i].name.len == 13
            && nc_memcmp(e[i].name.data, ".metadata.yml", 13) == 0)
        {
            continue;
        }

        im->nunrecognized++;
        nc_api_json_open(&im->unrecognized, NULL, '{');
        nc_api_json_str(&im->unrecognized, "itemName", e[i].name.data,
                        e[i].name.len);
        nc_api_json_close(&im->unrecognized, '}');
    }

    /* the v2 metadata gives types, apps and descriptions */
    for (i = 0; i < entries->nelts; i++) {
        if (e[i].name.len == 13
            && nc_memcmp(e[i].name.data, ".metadata.yml", 13) == 0)
        {
            rc = nc_api_import_metadata(r, im, &e[i]);
            if (rc != NC_OK) {
                return nc_api_end(rc);
            }
        }
    }

    /* ABORT imports all or nothing: any item that exists stops it first */
    if (im->policy == NC_API_IMPORT_ABORT) {
        item = im->items->elts;
        sv = nc_store_enter(nc_store);

        for (i = 0; sv && i < im->items->nelts; i++) {
            name.ns = im->ns;
            name.group = item[i].group;
            name.data_id = item[i].data_id;

            if (nc_api_config_lookup(sv, NC_STORE_CONFIG_ITEM, &name)) {
                im->nfailed++;
                nc_api_import_note(&im->failed, &item[i].group,
                                   &item[i].data_id);
            }
        }

        nc_store_leave(nc_store);

        if (im->nfailed) {
            return nc_api_import_answer(r, im);
        }
    }

    return nc_api_import_next(r, im);
}


static nc_int_t
nc_api_import_metadata(nc_http_request_t *r, nc_api_import_t *im,
    const nc_zip_entry_t *entry)
{
    size_t                 len;
    nc_uint_t              i;
    nc_str_t               id, group, *dst;
    const char            *s;
    void                  *iter;
    struct fy_node        *seq, *node, *field;
    struct fy_document    *doc;
    struct fy_parse_cfg    cfg;
    nc_api_import_item_t  *item;

    static const char  *keys[] = { "type", "appName", "desc" };

    nc_memzero(&cfg, sizeof(struct fy_parse_cfg));
    cfg.flags = FYPCF_QUIET;

    doc = fy_document_build_from_string(&cfg, (const char *) entry->data,
                                        entry->len);
    if (doc == NULL) {
        return nc_api_config_fail(r, NC_API_V1, NC_API_CONFIG_E_INVALID,
                                  ".metadata.yml is not YAML");
    }

    seq = fy_node_by_path(fy_document_root(doc), "/metadata", FY_NT,
                          FYNWF_DONT_FOLLOW);
    iter = NULL;

    while (seq && fy_node_is_sequence(seq)
           && (node = fy_node_sequence_iterate(seq, &iter)) != NULL)
    {
        s = fy_node_get_scalar(fy_node_by_path(node, "/dataId", FY_NT,
                                               FYNWF_DONT_FOLLOW), &len);
        id.data = (u_char *) s;
        id.len = s ? len : 0;

        s = fy_node_get_scalar(fy_node_by_path(node, "/group", FY_NT,
                                               FYNWF_DONT_FOLLOW), &len);
        group.data = (u_char *) s;
        group.len = s ? len : 0;

        item = im->items->elts;

        for (i = 0; i < im->items->nelts; i++) {
            if (item[i].data_id.len != id.len || item[i].group.len != group.len
                || nc_memcmp(item[i].data_id.data, id.data, id.len) != 0
                || nc_memcmp(item[i].group.data, group.data, group.len) != 0)
            {
                continue;
            }

            for (len = 0; len < nc_nelems(keys); len++) {
                field = fy_node_mapping_lookup_by_string(node, keys[len],
                                                         FY_NT);
                s = fy_node_get_scalar(field, &id.len);

                if (s == NULL) {
                    continue;
                }

                dst = len == 0 ? &item[i].type
                               : len == 1 ? &item[i].app : &item[i].desc;

                /* copied: the document goes before the publishes */
                dst->data = nc_pnalloc(r->pool, id.len);
                if (dst->data == NULL) {
                    fy_document_destroy(doc);
                    return NC_HTTP_INTERNAL_SERVER_ERROR;
                }

                nc_memcpy(dst->data, s, id.len);
                dst->len = nc_min(id.len, 128);
            }

            break;
        }
    }

    fy_document_destroy(doc);

    return NC_OK;
}


/* publish the next item, or answer */
static nc_int_t
nc_api_import_next(nc_http_request_t *r, nc_api_import_t *im)
{
    u_char                     *cmd;
    size_t                      len, klen;
    nc_flag_t                   exists;
    nc_api_config_name_t        name;
    nc_api_import_item_t       *item;
    nc_store_config_cmd_t       c;
    const nc_store_version_t   *v;
    u_char                      key[NC_STORE_MAX_KEY_LEN];

    for ( ;; ) {
        if (im->next >= im->items->nelts) {
            return nc_api_import_answer(r, im);
        }

        item = (nc_api_import_item_t *) im->items->elts + im->next;

        name.ns = im->ns;
        name.group = item->group;
        name.data_id = item->data_id;

        if (nc_auth_permit(r, &name.ns, &name.group, "config", &name.data_id,
                           NC_AUTH_WRITE) != NC_OK)
        {
            /* the 403 the check set is not the answer: the report is */
            im->nfailed++;
            nc_api_import_note(&im->failed, &item->group, &item->data_id);
            im->next++;
            continue;
        }

        v = nc_store_enter(nc_store);
        exists = v && nc_api_config_lookup(v, NC_STORE_CONFIG_ITEM, &name);
        nc_store_leave(nc_store);

        if (exists && im->policy == NC_API_IMPORT_SKIP) {
            im->nskipped++;
            nc_api_import_note(&im->skipped, &item->group, &item->data_id);
            im->next++;
            continue;
        }

        if (exists && im->policy == NC_API_IMPORT_ABORT) {
            im->nfailed++;
            nc_api_import_note(&im->failed, &item->group, &item->data_id);
            return nc_api_import_answer(r, im);
        }

        break;
    }

    nc_memzero(&c, sizeof(nc_store_config_cmd_t));
    c.time = nc_api_config_now();
    c.history_max_count = nc_api_config_conf->history_max_count;
    c.history_max_age = nc_api_config_conf->history_max_age;
    c.create_only = im->policy != NC_API_IMPORT_OVERWRITE;
    c.field[NC_STORE_CONFIG_F_CONTENT] = item->content;
    c.field[NC_STORE_CONFIG_F_APP] = item->app;
    c.field[NC_STORE_CONFIG_F_DESC] = item->desc;
    c.field[NC_STORE_CONFIG_F_USER] = r->auth_user;
    c.field[NC_STORE_CONFIG_F_IP] = r->connection->addr_text;

    if (item->type.len) {
        c.field[NC_STORE_CONFIG_F_TYPE] = item->type;

    } else {
        nc_str_set(&c.field[NC_STORE_CONFIG_F_TYPE], "text");
    }

    nc_store_config_md5(item->content.data, item->content.len, c.md5);

    klen = nc_store_config_key(key, sizeof(key), NC_STORE_CONFIG_ITEM,
                               &name.ns, &name.group, &name.data_id);
    cmd = klen ? nc_store_config_command(r->pool, NC_STORE_CONFIG_PUBLISH,
                                         key, klen, &c, &len)
               : NULL;

    if (cmd == NULL) {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_api_propose(r, cmd, len, nc_api_import_written, im);
}


static void
nc_api_import_written(nc_http_request_t *r, void *data, nc_int_t status,
    uint64_t index)
{
    nc_api_import_t       *im;
    nc_api_import_item_t  *item;

    im = data;
    item = (nc_api_import_item_t *) im->items->elts + im->next;

    switch (status) {

    case NC_OK:
        im->succ++;
        break;

    case NC_DECLINED:
        /* it was made meanwhile */
        if (im->policy == NC_API_IMPORT_SKIP) {
            im->nskipped++;
            nc_api_import_note(&im->skipped, &item->group, &item->data_id);
            break;
        }

        im->nfailed++;
        nc_api_import_note(&im->failed, &item->group, &item->data_id);
        nc_http_finalize_request(r, nc_api_import_answer(r, im));
        return;

    default:
        im->nfailed++;
        nc_api_import_note(&im->failed, &item->group, &item->data_id);
        nc_http_finalize_request(r, nc_api_import_answer(r, im));
        return;
    }

    im->next++;

    nc_http_finalize_request(r, nc_api_import_next(r, im));
}


/* Nacos' import report, a RestResult */
static nc_int_t
nc_api_import_answer(nc_http_request_t *r, nc_api_import_t *im)
{
    nc_api_json_t  j;

    nc_api_json_init(&j, r->pool);
    nc_api_json_open(&j, NULL, '{');
    nc_api_json_uint(&j, "code", 200);
    nc_api_json_str(&j, "message", (u_char *) "import ok", 9);
    nc_api_json_open(&j, "data", '{');
    nc_api_json_uint(&j, "succCount", im->succ);
    nc_api_json_uint(&j, "skipCount", im->nskipped);
    nc_api_json_uint(&j, "failCount", im->nfailed);
    nc_api_json_uint(&j, "unrecognizedCount", im->nunrecognized);

    nc_api_json_open(&j, "skipData", '[');
    nc_api_import_splice(&j, &im->skipped);
    nc_api_json_close(&j, ']');
    nc_api_json_open(&j, "failData", '[');
    nc_api_import_splice(&j, &im->failed);
    nc_api_json_close(&j, ']');
    nc_api_json_open(&j, "unrecognizedData", '[');
    nc_api_import_splice(&j, &im->unrecognized);
    nc_api_json_close(&j, ']');

    nc_api_json_close(&j, '}');
    nc_api_json_close(&j, '}');

    if (j.rc != NC_OK || im->skipped.rc != NC_OK || im->failed.rc != NC_OK
        || im->unrecognized.rc != NC_OK)
    {
        return NC_HTTP_INTERNAL_SERVER_ERROR;
    }

    return nc_http_set_response(r, NC_HTTP_OK, "application/json", j.out.pos,
                                nc_buf_size(&j.out));
}


/* the items another writer wrote, inside j's open array */
static void
nc_api_import_splice(nc_api_json_t *j, const nc_api_json_t *items)
{
    if (items->out.pos) {
        nc_api_export_append(j, items->out.pos, nc_buf_size(&items->out));
    }
}


static void
nc_api_import_note(nc_api_json_t *j, const nc_str_t *group,
    const nc_str_t *data_id)
{
    nc_api_json_open(j, NULL, '{');
    nc_api_json_str(j, "dataId", data_id->data, data_id->len);
    nc_api_json_str(j, "group", group->data, group->len);
    nc_api_json_close(j, '}');
}


/* Nacos' names: 1 to max of [A-Za-z0-9_.:-] */
static nc_flag_t
nc_api_import_name(const nc_str_t *s, size_t max)
{
    size_t  i;
    u_char  c;

    if (s->len == 0 || s->len > max) {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if (!(isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':')) {
            return 0;
        }
    }

    return 1;
}
