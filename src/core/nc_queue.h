
/*
 * nacre: intrusive doubly linked queue (a sentinel node heads it).
 */

#ifndef _NC_QUEUE_H_INCLUDED_
#define _NC_QUEUE_H_INCLUDED_


typedef struct nc_queue_s  nc_queue_t;

struct nc_queue_s {
    nc_queue_t  *prev;
    nc_queue_t  *next;
};


#define nc_queue_init(q)                                                      \
    (q)->prev = q;                                                            \
    (q)->next = q

#define nc_queue_empty(h)        (h == (h)->prev)

#define nc_queue_insert_head(h, x)                                            \
    (x)->next = (h)->next;                                                    \
    (x)->next->prev = x;                                                      \
    (x)->prev = h;                                                            \
    (h)->next = x

#define nc_queue_insert_tail(h, x)                                            \
    (x)->prev = (h)->prev;                                                    \
    (x)->prev->next = x;                                                      \
    (x)->next = h;                                                            \
    (h)->prev = x

#define nc_queue_head(h)         (h)->next
#define nc_queue_last(h)         (h)->prev
#define nc_queue_sentinel(h)     (h)
#define nc_queue_next(q)         (q)->next
#define nc_queue_prev(q)         (q)->prev

#define nc_queue_remove(x)                                                    \
    (x)->next->prev = (x)->prev;                                              \
    (x)->prev->next = (x)->next;                                              \
    (x)->prev = NULL;                                                         \
    (x)->next = NULL

#define nc_queue_data(q, type, link)                                          \
    (type *) ((u_char *) q - offsetof(type, link))


#endif /* _NC_QUEUE_H_INCLUDED_ */
