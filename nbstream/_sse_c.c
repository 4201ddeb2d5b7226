/* nbstream._sse_c: the SSE decoder of nbstream/_sse.py, in C.
 *
 * Why it exists: on a stream of ~250-byte chat-completion events, `json.loads` of one event
 * costs ~31,000 instructions, and issue 2 gives decoding a budget of a quarter of that. A
 * Python method call that merely slices, decodes and wraps one event already spends ~5,900;
 * the spec's checks do not fit in the rest (benchmarks/README-sse.md has the measurements).
 * This module does the same work in a few hundred instructions per event.
 *
 * It is an accelerator, not a second specification: nbstream/_sse.py's pure-Python
 * `SSEDecoder` is the reference, used when this module is not built (no compiler) or when
 * NBSTREAM_PURE_PYTHON is set, and tests/unit/test_sse*.py run every test against both and
 * compare the two on random streams, random chunkings and small size limits: the same events,
 * the same state, the same errors at the same chunk.
 *
 * The algorithm (WHATWG HTML, "Parsing an event stream" / "Interpreting an event stream") works
 * on bytes and decodes each event's text once, at dispatch; see nbstream/_sse.py for why that
 * is exact. Per chunk: an optional leading BOM is dropped (it may arrive split), CR, LF and
 * CRLF end lines (a CR ending a chunk makes the next chunk's leading LF part of it), and each
 * complete line is interpreted; an unterminated line waits in `partial`.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <string.h>
#if defined(__linux__)
#include <time.h>
#endif

/* A growable byte buffer. Capacity above SHRINK is released when the buffer empties, so an
 * idle decoder holds little memory after one huge event (memory bounded by the largest event
 * while it lasts, not forever). */
typedef struct {
    char *buf;
    Py_ssize_t len;
    Py_ssize_t cap;
} Buf;

#define SHRINK (64 * 1024)

static int
buf_add(Buf *b, const char *p, Py_ssize_t n)
{
    if (n > b->cap - b->len) {
        if (n > PY_SSIZE_T_MAX / 2 - b->len) {
            PyErr_NoMemory();
            return -1;
        }
        Py_ssize_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) {
            cap *= 2;
        }
        char *q = PyMem_Realloc(b->buf, (size_t)cap);
        if (q == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        b->buf = q;
        b->cap = cap;
    }
    if (n) {
        memcpy(b->buf + b->len, p, (size_t)n);
    }
    b->len += n;
    return 0;
}

static void
buf_clear(Buf *b)
{
    b->len = 0;
    if (b->cap > SHRINK) {
        PyMem_Free(b->buf);
        b->buf = NULL;
        b->cap = 0;
    }
}

static void
buf_free(Buf *b)
{
    PyMem_Free(b->buf);
    b->buf = NULL;
    b->len = b->cap = 0;
}

/* Set once at import from nbstream._sse_event / nbstream._errors. */
static PyTypeObject *EventType;  /* ServerSentEvent, a NamedTuple: built as a 5-item tuple */
static PyObject *TooLarge;       /* EventTooLargeError */
static PyObject *RetryValue;     /* _sse_event.retry_value(bytes) -> int */
static PyObject *Message;        /* "message" */
static PyObject *Empty;          /* "" */
#if !defined(__linux__)
static PyObject *Monotonic;      /* time.monotonic */
#endif

static const unsigned char BOM[3] = {0xEF, 0xBB, 0xBF};

#define DEFAULT_MAX (16 * 1024 * 1024) /* nbstream._sse.DEFAULT_MAX_EVENT_SIZE */

typedef struct {
    PyObject_HEAD
    Py_ssize_t max;
    char busy;                /* inside decode() or flush(): see not_reentrant() */
    PyObject *max_obj;        /* max_event_size as given, for the error message */
    PyObject *last_event_id;  /* public: str, set at each dispatch */
    PyObject *retry;          /* public: int or None, the stream's reconnection time */
    char ended_mid_event;     /* public, set by flush() */
    PyObject *id;             /* the spec's last event ID buffer (str); persists */
    int bom;                  /* BOM bytes matched so far (0..2), or -1 once decided */
    char cr;                  /* the last byte seen was CR: a leading LF belongs to it */
    Buf partial;              /* an unterminated line */
    Buf data;                 /* this event's data lines, each followed by LF */
    Buf etype;                /* this event's type, as bytes */
    PyObject *retry_block;    /* the retry given in this event's block, or NULL */
    char in_event;            /* a field line was seen since the last blank line */
    PyObject *type_bytes;     /* the last event type decoded, as bytes ... */
    PyObject *type_str;       /* ... and as str: Anthropic repeats a few types all stream long */
} Decoder;

static void
reset_event(Decoder *self)
{
    buf_clear(&self->data);
    self->etype.len = 0;
    Py_CLEAR(self->retry_block);
    self->in_event = 0;
}

static void
reset_stream(Decoder *self)
{
    self->bom = 0;
    self->cr = 0;
    buf_clear(&self->partial);
    reset_event(self);
}

static PyObject *
now_value(void)
{
#if defined(__linux__)
    /* time.monotonic() is clock_gettime(CLOCK_MONOTONIC) on Linux (CPython's pytime.c). */
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0) {
        return PyFloat_FromDouble((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
    }
    PyErr_SetFromErrno(PyExc_OSError);
    return NULL;
#else
    return PyObject_CallNoArgs(Monotonic);
#endif
}

static void
too_large(Decoder *self)
{
    PyObject *spec = PyUnicode_FromString(",");
    PyObject *grouped = spec ? PyObject_Format(self->max_obj, spec) : NULL;
    Py_XDECREF(spec);
    if (grouped == NULL) {
        return;
    }
    PyObject *msg = PyUnicode_FromFormat(
        "a server-sent event grew past %U bytes; raise max_event_size if the server really "
        "sends events that large",
        grouped);
    Py_DECREF(grouped);
    if (msg == NULL) {
        return;
    }
    PyObject *args = PyTuple_Pack(1, msg);
    Py_DECREF(msg);
    PyObject *kwargs = args ? Py_BuildValue("{sO}", "limit", self->max_obj) : NULL;
    PyObject *exc = kwargs ? PyObject_Call(TooLarge, args, kwargs) : NULL;
    Py_XDECREF(args);
    Py_XDECREF(kwargs);
    if (exc != NULL) {
        PyErr_SetObject(TooLarge, exc);
        Py_DECREF(exc);
    }
}

/* The event's type as str; "message" when the block gave none. New reference. */
static PyObject *
event_type(Decoder *self)
{
    Py_ssize_t n = self->etype.len;
    if (n == 0) {
        Py_INCREF(Message);
        return Message;
    }
    if (self->type_bytes != NULL && PyBytes_GET_SIZE(self->type_bytes) == n &&
        memcmp(PyBytes_AS_STRING(self->type_bytes), self->etype.buf, (size_t)n) == 0) {
        Py_INCREF(self->type_str);
        return self->type_str;
    }
    PyObject *raw = PyBytes_FromStringAndSize(self->etype.buf, n);
    if (raw == NULL) {
        return NULL;
    }
    PyObject *text = PyUnicode_DecodeUTF8(self->etype.buf, n, "replace");
    if (text == NULL) {
        Py_DECREF(raw);
        return NULL;
    }
    Py_XSETREF(self->type_bytes, raw);
    Py_INCREF(text);
    Py_XSETREF(self->type_str, text);
    return text;
}

/* A blank line: dispatch the event, if its data buffer is not empty.
 *
 * Everything the event needs is taken from the decoder first, by calls that run no Python
 * code, and the event state is reset; only then come the calls that can (an allocation may
 * collect garbage and run finalizers, replacing last_event_id drops a caller's object). */
static int
dispatch(Decoder *self, PyObject **events, PyObject **now)
{
    PyObject *type = NULL, *data = NULL, *retry = NULL;
    PyObject *id = self->id;
    Py_INCREF(id);
    if (self->data.len) {
        /* The data lines joined with LF: the buffer less its final LF. */
        data = PyUnicode_DecodeUTF8(self->data.buf, self->data.len - 1, "replace");
        type = data ? event_type(self) : NULL;
        if (type == NULL) {
            goto fail;
        }
        retry = self->retry_block ? self->retry_block : Py_None;
        Py_INCREF(retry);
    }
    reset_event(self);
    Py_INCREF(id);
    Py_SETREF(self->last_event_id, id);
    if (data == NULL) {
        Py_DECREF(id);
        return 0;
    }
    if (*now == NULL && (*now = now_value()) == NULL) {
        goto fail;
    }
    if (*events == NULL && (*events = PyList_New(0)) == NULL) {
        goto fail;
    }
    PyObject *event = EventType->tp_alloc(EventType, 5);
    if (event == NULL) {
        goto fail;
    }
    Py_INCREF(*now);
    PyTuple_SET_ITEM(event, 0, type);
    PyTuple_SET_ITEM(event, 1, data);
    PyTuple_SET_ITEM(event, 2, id);
    PyTuple_SET_ITEM(event, 3, retry);
    PyTuple_SET_ITEM(event, 4, *now);
    int failed = PyList_Append(*events, event);
    Py_DECREF(event);
    return failed ? -1 : 0;

fail:
    Py_DECREF(id);
    Py_XDECREF(type);
    Py_XDECREF(data);
    Py_XDECREF(retry);
    return -1;
}

/* Interpret one complete line (no CR or LF in it). */
static int
line(Decoder *self, const char *p, Py_ssize_t n, PyObject **events, PyObject **now)
{
    if (n == 0) {
        return dispatch(self, events, now);
    }
    if (p[0] == ':') {
        return 0; /* a comment */
    }
    self->in_event = 1;
    const char *colon = memchr(p, ':', (size_t)n);
    const char *value = p + n;
    Py_ssize_t name_len = n;
    if (colon != NULL) {
        name_len = colon - p;
        value = colon + 1;
        if (value < p + n && *value == ' ') {
            value++;
        }
    }
    Py_ssize_t value_len = p + n - value;
    if (name_len == 4 && memcmp(p, "data", 4) == 0) {
        if (buf_add(&self->data, value, value_len) || buf_add(&self->data, "\n", 1)) {
            return -1;
        }
        if (self->data.len > self->max) {
            too_large(self);
            return -1;
        }
    }
    else if (name_len == 5 && memcmp(p, "event", 5) == 0) {
        self->etype.len = 0;
        return buf_add(&self->etype, value, value_len);
    }
    else if (name_len == 2 && memcmp(p, "id", 2) == 0) {
        if (memchr(value, 0, (size_t)value_len) == NULL) {
            PyObject *id = PyUnicode_DecodeUTF8(value, value_len, "replace");
            if (id == NULL) {
                return -1;
            }
            Py_SETREF(self->id, id);
        }
    }
    else if (name_len == 5 && memcmp(p, "retry", 5) == 0 && value_len > 0) {
        for (const char *q = value; q < p + n; q++) {
            if (*q < '0' || *q > '9') {
                return 0; /* only ASCII digits set the reconnection time */
            }
        }
        PyObject *ms = PyObject_CallFunction(RetryValue, "y#", value, value_len);
        if (ms == NULL) {
            return -1;
        }
        Py_INCREF(ms);
        Py_SETREF(self->retry, ms);
        Py_XSETREF(self->retry_block, ms);
    }
    /* Any other field name is ignored (spec). */
    return 0;
}

static const char *
find_cr(const char *p, const char *end)
{
    const char *cr = memchr(p, '\r', (size_t)(end - p));
    return cr ? cr : end;
}

/* Feed bytes p[0:n], past any BOM. Returns 0, or -1 with an exception set. */
static int
feed(Decoder *self, const char *p, Py_ssize_t n, PyObject **events, PyObject **now)
{
    const char *end = p + n;
    if (self->cr) {
        self->cr = 0;
        if (p < end && *p == '\n') {
            p++; /* the LF of a CRLF split across chunks */
        }
    }
    /* Where the next CR is (or `end`): lines end at the first CR or LF, found with memchr. */
    const char *next_cr = find_cr(p, end);
    while (p < end) {
        if (next_cr < p) {
            next_cr = find_cr(p, end);
        }
        const char *eol = memchr(p, '\n', (size_t)(next_cr - p));
        if (eol == NULL) {
            if (next_cr == end) {
                /* An unterminated line: wait for the rest. */
                if (buf_add(&self->partial, p, end - p)) {
                    return -1;
                }
                break;
            }
            eol = next_cr;
        }
        const char *next = eol + 1;
        if (*eol == '\r') {
            if (next == end) {
                self->cr = 1;
            }
            else if (*next == '\n') {
                next++;
            }
        }
        int failed;
        if (self->partial.len) {
            failed = buf_add(&self->partial, p, eol - p) ||
                     line(self, self->partial.buf, self->partial.len, events, now);
            self->partial.len = 0;
        }
        else {
            failed = line(self, p, eol - p, events, now);
        }
        if (failed) {
            return -1;
        }
        p = next;
    }
    if (self->partial.len) {
        if (self->partial.len > self->max - self->data.len) {
            too_large(self);
            return -1;
        }
    }
    else {
        buf_clear(&self->partial);
    }
    return 0;
}

/* A finalizer or a caller's object may run Python code in the middle of decode(); should that
 * code call back into the same decoder, it is refused rather than allowed to change buffers
 * that the outer call is reading. */
static int
not_reentrant(Decoder *self)
{
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "SSEDecoder: decode() or flush() called re-entrantly");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(decode_doc,
"decode($self, chunk, /)\n--\n\n"
"Feed the next chunk of the body.\n\n"
"Args:\n"
"    chunk: Any number of bytes, split anywhere.\n\n"
"Returns:\n"
"    The events that this chunk completed, in order (often none).\n\n"
"Raises:\n"
"    EventTooLargeError: The current event grew past ``max_event_size``.");

static PyObject *
Decoder_decode(Decoder *self, PyObject *arg)
{
    Py_buffer view;
    if (not_reentrant(self) || PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (view.len == 0) {
        PyBuffer_Release(&view);
        return PyList_New(0); /* nothing changes, not even a pending CR */
    }
    const char *p = view.buf;
    const char *end = p + view.len;
    PyObject *events = NULL;
    PyObject *now = NULL;
    int failed = 0;
    if (self->bom >= 0) {
        /* The UTF-8 decode algorithm drops one leading BOM; it may arrive split over chunks.
         * If the bytes turn out not to be one, those held so far are the first line's. */
        while (p < end && self->bom >= 0 && self->bom < 3) {
            if ((unsigned char)*p != BOM[self->bom]) {
                int held = self->bom;
                self->bom = -1;
                failed = buf_add(&self->partial, (const char *)BOM, held);
                break;
            }
            self->bom++;
            p++;
        }
        if (self->bom == 3) {
            self->bom = -1;
        }
        if (!failed && self->bom >= 0) {
            PyBuffer_Release(&view);
            return PyList_New(0); /* still one, two or three bytes of a possible BOM */
        }
    }
    if (!failed && (p < end || self->partial.len)) {
        self->busy = 1;
        failed = feed(self, p, end - p, &events, &now);
        self->busy = 0;
    }
    if (failed) {
        /* As the Python decoder: the event is dropped, with the rest of this chunk. */
        self->cr = view.len > 0 && ((const char *)view.buf)[view.len - 1] == '\r';
        buf_clear(&self->partial);
        reset_event(self);
        Py_CLEAR(events);
    }
    PyBuffer_Release(&view);
    Py_XDECREF(now);
    if (failed) {
        return NULL;
    }
    return events ? events : PyList_New(0);
}

PyDoc_STRVAR(flush_doc,
"flush($self, /)\n--\n\n"
"Signal the end of the stream.\n\n"
"Per spec, an event not followed by a blank line is discarded; :attr:`ended_mid_event`\n"
"records whether that happened. The decoder is then ready for a new connection's\n"
"stream (keeping :attr:`last_event_id` and :attr:`retry`, as a reconnect would).\n\n"
"Returns:\n"
"    Always an empty list (the method exists so all decoders share one shape).");

static PyObject *
Decoder_flush(Decoder *self, PyObject *Py_UNUSED(ignored))
{
    if (not_reentrant(self)) {
        return NULL;
    }
    /* A pending partial line, or BOM bytes still undecided, is an unterminated line. */
    int first = -1;
    if (self->partial.len) {
        first = (unsigned char)self->partial.buf[0];
    }
    else if (self->bom > 0) {
        first = BOM[0];
    }
    self->ended_mid_event =
        self->in_event || self->data.len > 0 || (first >= 0 && first != ':');
    reset_stream(self);
    return PyList_New(0);
}

/* The state of a new decoder; max_obj is stolen. __init__ sets it again (as the Python
 * decoder's does), and __new__ sets it first so that a subclass skipping __init__ still works. */
static void
start(Decoder *self, Py_ssize_t max, PyObject *max_obj)
{
    self->max = max;
    Py_XSETREF(self->max_obj, max_obj);
    self->ended_mid_event = 0;
    Py_INCREF(Empty);
    Py_XSETREF(self->last_event_id, Empty);
    Py_INCREF(Empty);
    Py_XSETREF(self->id, Empty);
    Py_INCREF(Py_None);
    Py_XSETREF(self->retry, Py_None);
    reset_stream(self);
}

static PyObject *
Decoder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    Decoder *self = (Decoder *)type->tp_alloc(type, 0);
    PyObject *max_obj = self ? PyLong_FromSsize_t(DEFAULT_MAX) : NULL;
    if (max_obj == NULL) {
        Py_XDECREF(self);
        return NULL;
    }
    start(self, DEFAULT_MAX, max_obj);
    return (PyObject *)self;
}

static int
Decoder_init(Decoder *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"max_event_size", NULL};
    PyObject *max_obj = NULL;
    if (not_reentrant(self)) {
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:SSEDecoder", keywords, &max_obj)) {
        return -1;
    }
    Py_ssize_t max = DEFAULT_MAX;
    if (max_obj == NULL) {
        max_obj = PyLong_FromSsize_t(max);
        if (max_obj == NULL) {
            return -1;
        }
    }
    else {
        max_obj = PyNumber_Index(max_obj);
        if (max_obj == NULL) {
            return -1;
        }
        PyObject *one = PyLong_FromLong(1);
        int positive = one ? PyObject_RichCompareBool(max_obj, one, Py_GE) : -1;
        Py_XDECREF(one);
        if (positive <= 0) {
            if (positive == 0) {
                PyErr_Format(PyExc_ValueError, "max_event_size must be positive, not %S",
                             max_obj);
            }
            Py_DECREF(max_obj);
            return -1;
        }
        /* Above what memory could hold, a limit is no limit. */
        max = PyLong_AsSsize_t(max_obj);
        if (max == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            max = PY_SSIZE_T_MAX;
        }
    }
    start(self, max, max_obj);
    return 0;
}

static int
Decoder_traverse(Decoder *self, visitproc visit, void *arg)
{
    Py_VISIT(self->max_obj);
    Py_VISIT(self->last_event_id);
    Py_VISIT(self->retry);
    Py_VISIT(self->id);
    Py_VISIT(self->retry_block);
    return 0;
}

/* Only last_event_id and retry can hold a caller's object, so only they can close a cycle;
 * they are reset to "" and None, never NULL, so that a cleared decoder stays usable. */
static int
Decoder_clear(Decoder *self)
{
    Py_INCREF(Empty);
    Py_XSETREF(self->last_event_id, Empty);
    Py_INCREF(Py_None);
    Py_XSETREF(self->retry, Py_None);
    return 0;
}

static void
Decoder_dealloc(Decoder *self)
{
    /* A static type: a Python subclass's dealloc (subtype_dealloc) drops the type's reference. */
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->max_obj);
    Py_CLEAR(self->last_event_id);
    Py_CLEAR(self->retry);
    Py_CLEAR(self->id);
    Py_CLEAR(self->retry_block);
    Py_CLEAR(self->type_bytes);
    Py_CLEAR(self->type_str);
    buf_free(&self->partial);
    buf_free(&self->data);
    buf_free(&self->etype);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Decoder_repr(Decoder *self)
{
    return PyUnicode_FromFormat("SSEDecoder(last_event_id=%R, retry=%R)",
                                self->last_event_id, self->retry);
}

static PyMethodDef Decoder_methods[] = {
    {"decode", (PyCFunction)Decoder_decode, METH_O, decode_doc},
    {"flush", (PyCFunction)Decoder_flush, METH_NOARGS, flush_doc},
    {NULL, NULL, 0, NULL},
};

/* last_event_id and retry are writable, as on the Python decoder, but not deletable: the
 * decoder reads them back (repr, dispatch), so they always hold a value. */
static PyObject *
get_slot(Decoder *self, void *offset)
{
    PyObject *value = *(PyObject **)((char *)self + (size_t)offset);
    Py_INCREF(value);
    return value;
}

static int
set_slot(Decoder *self, PyObject *value, void *offset)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "this attribute cannot be deleted");
        return -1;
    }
    Py_INCREF(value);
    Py_SETREF(*(PyObject **)((char *)self + (size_t)offset), value);
    return 0;
}

static PyGetSetDef Decoder_getset[] = {
    {"last_event_id", (getter)get_slot, (setter)set_slot,
     "The stream's last event id (set when an event block ends, per spec).",
     (void *)offsetof(Decoder, last_event_id)},
    {"retry", (getter)get_slot, (setter)set_slot,
     "The stream's reconnection time in ms, if the server set one.",
     (void *)offsetof(Decoder, retry)},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef Decoder_members[] = {
    {"ended_mid_event", T_BOOL, offsetof(Decoder, ended_mid_event), 0,
     "After flush(): whether the stream ended inside an event."},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject DecoderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nbstream._sse_c.SSEDecoder",
    .tp_basicsize = sizeof(Decoder),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = Decoder_new,
    .tp_init = (initproc)Decoder_init,
    .tp_dealloc = (destructor)Decoder_dealloc,
    .tp_traverse = (traverseproc)Decoder_traverse,
    .tp_clear = (inquiry)Decoder_clear,
    .tp_repr = (reprfunc)Decoder_repr,
    .tp_methods = Decoder_methods,
    .tp_members = Decoder_members,
    .tp_getset = Decoder_getset,
    .tp_doc = "The SSE decoder of nbstream._sse, in C: use nbstream.SSEDecoder, its subclass.",
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "nbstream._sse_c",
    .m_doc = "The SSE decoder of nbstream._sse, in C (see that module for the contract).",
    .m_size = -1,
};

static PyObject *
attribute(const char *module_name, const char *name)
{
    PyObject *mod = PyImport_ImportModule(module_name);
    if (mod == NULL) {
        return NULL;
    }
    PyObject *value = PyObject_GetAttrString(mod, name);
    Py_DECREF(mod);
    return value;
}

PyMODINIT_FUNC
PyInit__sse_c(void)
{
    EventType = (PyTypeObject *)attribute("nbstream._sse_event", "ServerSentEvent");
    if (EventType == NULL) {
        return NULL;
    }
    if (!PyType_Check(EventType) || !PyType_IsSubtype(EventType, &PyTuple_Type) ||
        EventType->tp_dictoffset != 0) {
        PyErr_SetString(PyExc_TypeError, "ServerSentEvent must be a tuple subclass with no __dict__");
        return NULL;
    }
    TooLarge = attribute("nbstream._errors", "EventTooLargeError");
    RetryValue = attribute("nbstream._sse_event", "retry_value");
    Message = PyUnicode_InternFromString("message");
    Empty = PyUnicode_InternFromString("");
#if !defined(__linux__)
    Monotonic = attribute("time", "monotonic");
    if (Monotonic == NULL) {
        return NULL;
    }
#endif
    if (TooLarge == NULL || RetryValue == NULL || Message == NULL || Empty == NULL) {
        return NULL;
    }
    if (PyType_Ready(&DecoderType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&DecoderType);
    if (PyModule_AddObject(m, "SSEDecoder", (PyObject *)&DecoderType) < 0) {
        Py_DECREF(&DecoderType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
