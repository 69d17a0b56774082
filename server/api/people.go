package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// person is one entry of an app's people directory.
type person struct {
	ID       uuid.UUID  `json:"id"`
	Name     string     `json:"name"`
	TeamID   *uuid.UUID `json:"team_id"`
	TeamName *string    `json:"team_name"`
}

// mountPeople registers the people directory: who can be picked as a record owner or in a
// user field of an app.
func (s *Server) mountPeople() {
	s.route("GET", "/api/v1/apps/:app/people", "apps",
		"The app's people: enabled users holding a role in the app, and platform admins (?q matches names; for platform admins also e-mail addresses; limit up to 200). Names and teams only, for user pickers; any user who can open the app may read it.",
		s.listPeople)
}

// listPeople answers the directory. Only platform admins search e-mail addresses: for everyone
// else q matches names, so the directory is no oracle for who has which address.
func (s *Server) listPeople(c *fiber.Ctx) error {
	p, app, err := s.loadApp(c, "read")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	limit, err := queryInt(c, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT u.id, u.name, u.team_id, t.name
		FROM users u LEFT JOIN teams t ON t.id = u.team_id
		WHERE NOT u.disabled
		  AND (u.is_admin OR EXISTS (SELECT 1 FROM casbin_rule r WHERE r.ptype = 'g' AND r.v0 = u.id::text AND r.v2 = $1))
		  AND ($2 = '' OR strpos(lower(u.name), lower($2)) > 0 OR ($4 AND strpos(lower(u.email), lower($2)) > 0))
		ORDER BY u.name, u.id LIMIT $3`, app.ID.String(), c.Query("q"), limit, p.IsAdmin)
	if err != nil {
		return err
	}
	defer rows.Close()
	items := []person{}
	for rows.Next() {
		var x person
		if err := rows.Scan(&x.ID, &x.Name, &x.TeamID, &x.TeamName); err != nil {
			return err
		}
		items = append(items, x)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items})
}
