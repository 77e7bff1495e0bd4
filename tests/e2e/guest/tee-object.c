// SPDX-License-Identifier: MIT
/*
 * tee-object: puts and gets one persistent object in OP-TEE's RPMB
 * secure storage from a TEE test guest, so that the OP-TEE scenarios can
 * check what survives a guest reboot and what one guest can see of
 * another's. It drives the second storage TA that ships with xtest
 * (already in the guest's /lib/optee_armtz) through its command
 * interface, always on TEE_STORAGE_PRIVATE_RPMB, i.e. on our virtio-rpmb
 * device. The second one, because objects belong to their TA: xtest's
 * enumeration case (6009) counts the first TA's objects, and ours must
 * not be among them.
 *
 *   tee-object put ID DATA   create (or replace) object ID holding DATA
 *   tee-object get ID        print the object's content
 *
 * Prints one line, "put ID ok", "get ID = DATA" or "<op> ID error 0x...
 * (origin N)" with TEE_ERROR_ITEM_NOT_FOUND named as "not found"; exits 0
 * only on success.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <tee_client_api.h>

/* optee_test's storage2 TA (TA_STORAGE2_UUID, ta/include/ta_storage.h). */
static const TEEC_UUID storage_ta = {
	0x731e279e, 0xaafb, 0x4575,
	{ 0xa7, 0x71, 0x38, 0xca, 0xa6, 0xf0, 0xcc, 0xa6 }
};
#define CMD_OPEN		0
#define CMD_CLOSE		1
#define CMD_READ		2
#define CMD_CREATE		4

/* GlobalPlatform TEE Internal Core API values. */
#define STORAGE_PRIVATE_RPMB	0x80000100
#define FLAG_ACCESS_READ	0x00000001
#define FLAG_ACCESS_WRITE	0x00000002
#define FLAG_ACCESS_WRITE_META	0x00000004
#define FLAG_OVERWRITE		0x00000400
#define ERROR_ITEM_NOT_FOUND	0xffff0008

#define MAX_DATA		256

static int report(const char *op, const char *id, TEEC_Result res,
		  uint32_t origin)
{
	printf("%s %s error 0x%08x (origin %u)%s\n", op, id, res, origin,
	       res == ERROR_ITEM_NOT_FOUND ? " not found" : "");
	return 1;
}

/* The TA hands back its object handle as a 32-bit value. */
static void close_object(TEEC_Session *s, uint32_t handle)
{
	TEEC_Operation op = { 0 };
	uint32_t origin;

	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_NONE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].value.a = handle;
	TEEC_InvokeCommand(s, CMD_CLOSE, &op, &origin);
}

static int put(TEEC_Session *s, const char *id, const char *data)
{
	TEEC_Operation op = { 0 };
	uint32_t origin = 0;
	TEEC_Result res;

	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT,
					 TEEC_VALUE_INOUT, TEEC_VALUE_INPUT,
					 TEEC_MEMREF_TEMP_INPUT);
	op.params[0].tmpref.buffer = (void *)id;
	op.params[0].tmpref.size = strlen(id);
	op.params[1].value.a = FLAG_ACCESS_READ | FLAG_ACCESS_WRITE |
			       FLAG_ACCESS_WRITE_META | FLAG_OVERWRITE;
	op.params[2].value.a = 0;	/* no attributes object */
	op.params[2].value.b = STORAGE_PRIVATE_RPMB;
	op.params[3].tmpref.buffer = (void *)data;
	op.params[3].tmpref.size = strlen(data);
	res = TEEC_InvokeCommand(s, CMD_CREATE, &op, &origin);
	if (res != TEEC_SUCCESS)
		return report("put", id, res, origin);
	close_object(s, op.params[1].value.b);
	printf("put %s ok\n", id);
	return 0;
}

static int get(TEEC_Session *s, const char *id)
{
	char data[MAX_DATA + 1] = { 0 };
	TEEC_Operation op = { 0 };
	uint32_t origin = 0, handle;
	TEEC_Result res;

	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT,
					 TEEC_VALUE_INOUT, TEEC_VALUE_INPUT,
					 TEEC_NONE);
	op.params[0].tmpref.buffer = (void *)id;
	op.params[0].tmpref.size = strlen(id);
	op.params[1].value.a = FLAG_ACCESS_READ;
	op.params[2].value.a = STORAGE_PRIVATE_RPMB;
	res = TEEC_InvokeCommand(s, CMD_OPEN, &op, &origin);
	if (res != TEEC_SUCCESS)
		return report("get", id, res, origin);
	handle = op.params[1].value.b;

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_OUTPUT,
					 TEEC_VALUE_INOUT, TEEC_NONE, TEEC_NONE);
	op.params[0].tmpref.buffer = data;
	op.params[0].tmpref.size = MAX_DATA;
	op.params[1].value.a = handle;
	res = TEEC_InvokeCommand(s, CMD_READ, &op, &origin);
	close_object(s, handle);
	if (res != TEEC_SUCCESS)
		return report("get", id, res, origin);
	/* value.b is how much the TA read; never trust it past our buffer. */
	data[op.params[1].value.b < MAX_DATA ? op.params[1].value.b : MAX_DATA] = 0;
	printf("get %s = %s\n", id, data);
	return 0;
}

int main(int argc, char **argv)
{
	TEEC_Context ctx;
	TEEC_Session sess;
	uint32_t origin = 0;
	TEEC_Result res;
	int ret;

	if (argc < 3 || (!strcmp(argv[1], "put") && argc != 4) ||
	    (strcmp(argv[1], "put") && strcmp(argv[1], "get")) ||
	    strlen(argv[2]) > 64 || (argc == 4 && strlen(argv[3]) > MAX_DATA)) {
		fprintf(stderr, "usage: tee-object put ID DATA | get ID\n");
		return 2;
	}
	res = TEEC_InitializeContext(NULL, &ctx);
	if (res != TEEC_SUCCESS)
		return report(argv[1], argv[2], res, 0);
	res = TEEC_OpenSession(&ctx, &sess, &storage_ta, TEEC_LOGIN_PUBLIC,
			       NULL, NULL, &origin);
	if (res != TEEC_SUCCESS) {
		TEEC_FinalizeContext(&ctx);
		return report(argv[1], argv[2], res, origin);
	}
	if (!strcmp(argv[1], "put"))
		ret = put(&sess, argv[2], argv[3]);
	else
		ret = get(&sess, argv[2]);
	TEEC_CloseSession(&sess);
	TEEC_FinalizeContext(&ctx);
	return ret;
}
