package api

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/server/problem"
)

func specErrors(field, code, msg string) spec.Errors {
	return spec.Errors{{Field: field, Code: code, Message: msg}}
}

// decodeStrict decodes JSON rejecting unknown keys, reporting errors as 422 field errors.
func decodeStrict(b []byte, v any) error {
	if err := spec.DecodeInto(b, v); err != nil {
		var fe spec.Errors
		if errors.As(err, &fe) {
			return problem.Validation(fe)
		}
		return problem.Validation(specErrors("$", "invalid_json", err.Error()))
	}
	return nil
}

// paramUUID parses a path parameter as a UUID, answering 404 when it is not one.
func paramUUID(c *fiber.Ctx, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil {
		return uuid.Nil, problem.NotFound(name + " not found (未找到)")
	}
	return id, nil
}

// queryInt reads an integer query parameter within [min,max], default def.
func queryInt(c *fiber.Ctx, name string, def, min, max int) (int, error) {
	raw := c.Query(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < min || n > max {
		return 0, problem.Validation(specErrors(name, "out_of_range", "must be an integer from "+strconv.Itoa(min)+" to "+strconv.Itoa(max)+" (须为 "+strconv.Itoa(min)+" 到 "+strconv.Itoa(max)+" 之间的整数)"))
	}
	return n, nil
}
