package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store"
)

type usersData struct {
	Users []*store.User
	Roles []auth.Role
	Error string
	Self  int64
}

type createdData struct {
	Username, Password, Action string
}

func (h *Handler) renderUsers(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, msg string) {
	us, err := h.st.ListUsers(r.Context())
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	h.render(w, r, status, "users", page{Title: "Users and roles", Nav: "settings", RC: rc,
		Data: usersData{Users: us, Roles: auth.Roles, Error: msg, Self: rc.User.ID}, Flash: flash(r)})
}

func (h *Handler) usersPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	h.renderUsers(w, r, rc, http.StatusOK, "")
}

// createUser adds an account with a one-time password shown once.
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	name := strings.TrimSpace(r.PostFormValue("username"))
	if err := auth.ValidateUsername(name); err != nil {
		h.renderUsers(w, r, rc, http.StatusBadRequest, strings.TrimPrefix(err.Error(), auth.ErrBadUsername.Error()+": ")+".")
		return
	}
	role, err := auth.ParseRole(r.PostFormValue("role"))
	if err != nil {
		h.renderUsers(w, r, rc, http.StatusBadRequest, "Choose one of the roles.")
		return
	}
	pw, hash, err := h.oneTimePassword()
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	u := &store.User{Username: name, Role: string(role), PasswordHash: hash, MustChangePassword: true}
	err = h.st.CreateUser(r.Context(), u)
	if errors.Is(err, store.ErrExists) {
		h.renderUsers(w, r, rc, http.StatusConflict, fmt.Sprintf("A user named %q already exists.", name))
		return
	}
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	h.log.Info("user created", "user", name, "role", role, "by", rc.User.Username)
	h.render(w, r, http.StatusCreated, "created", page{Title: "User created", Nav: "settings", RC: rc,
		Data: createdData{Username: name, Password: pw, Action: "created"}})
}

func (h *Handler) oneTimePassword() (pw, hash string, err error) {
	if pw, err = auth.GeneratePassword(); err != nil {
		return "", "", err
	}
	hash, err = auth.HashPassword(pw, h.params)
	return pw, hash, err
}

// updateUser changes one account: role, disable, enable or reset password.
func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	ctx := r.Context()
	var u *store.User
	if err == nil {
		u, err = h.st.GetUser(ctx, id)
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || u == nil {
			h.errorPage(w, r, rc, http.StatusNotFound, "No such user", "That account does not exist.")
			return
		}
		h.serverError(w, r, rc, err)
		return
	}
	self := u.ID == rc.User.ID
	var pw string
	switch action := r.PostFormValue("action"); action {
	case "role":
		role, err := auth.ParseRole(r.PostFormValue("role"))
		if err != nil {
			h.renderUsers(w, r, rc, http.StatusBadRequest, "Choose one of the roles.")
			return
		}
		if self && role != auth.Admin {
			h.renderUsers(w, r, rc, http.StatusBadRequest, "You cannot take the admin role from yourself; ask another administrator.")
			return
		}
		u.Role = string(role)
	case "disable":
		if self {
			h.renderUsers(w, r, rc, http.StatusBadRequest, "You cannot disable your own account.")
			return
		}
		u.Disabled = true
	case "enable":
		u.Disabled = false
	case "reset":
		var hash string
		if pw, hash, err = h.oneTimePassword(); err != nil {
			h.serverError(w, r, rc, err)
			return
		}
		u.PasswordHash, u.MustChangePassword = hash, true
	default:
		h.renderUsers(w, r, rc, http.StatusBadRequest, "Unknown action.")
		return
	}
	if err := h.st.UpdateUser(ctx, u); err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	if u.Disabled || pw != "" || !self {
		// role changes, disabling and resets take effect at once
		if err := h.st.DeleteUserSessions(ctx, u.ID); err != nil {
			h.serverError(w, r, rc, err)
			return
		}
	}
	h.log.Info("user updated", "user", u.Username, "action", r.PostFormValue("action"), "by", rc.User.Username)
	if pw != "" {
		h.render(w, r, http.StatusOK, "created", page{Title: "Password reset", Nav: "settings", RC: rc,
			Data: createdData{Username: u.Username, Password: pw, Action: "reset"}})
		return
	}
	http.Redirect(w, r, "/settings/users?flash=updated", http.StatusSeeOther)
}
