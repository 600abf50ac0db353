package store

import (
	"errors"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Favourites: the colleagues a user starred in their contacts, kept in the
// settings bucket under "favourites/EXT" as a JSON list of extensions, in
// the order they were starred. No schema change: the settings bucket exists
// in every version.

// MaxFavourites bounds one user's list.
const MaxFavourites = 200

func favouritesKey(ext string) string { return "favourites/" + ext }

// Favourites returns the extensions ext starred (none when never set).
// Extensions of users deleted since may be among them.
func (s *Store) Favourites(ext string) ([]string, error) {
	var out []string
	err := s.Setting(favouritesKey(ext), &out)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return out, err
}

// SetFavourite stars (on) or unstars target in ext's favourites, in one
// transaction, and returns the list. Both must be users when starring;
// unstarring someone deleted since works. ErrNotFound for no such user.
func (s *Store) SetFavourite(ext, target string, on bool) ([]string, error) {
	var list []string
	err := s.updateNoSecrets(func(tx *bolt.Tx) error {
		users := tx.Bucket(bucketUsers)
		if users.Get([]byte(ext)) == nil || on && users.Get([]byte(target)) == nil {
			return ErrNotFound
		}
		b := tx.Bucket(bucketSettings)
		if err := getJSON(b, favouritesKey(ext), &list); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		i := slices.Index(list, target)
		switch {
		case on && i >= 0, !on && i < 0:
			return nil // nothing changes
		case on:
			if len(list) >= MaxFavourites {
				return BadValue("at most %d favourites", MaxFavourites)
			}
			list = append(list, target)
		default:
			list = slices.Delete(list, i, i+1)
		}
		return putJSON(b, favouritesKey(ext), list)
	})
	return list, err
}

// deleteFavourites removes ext's own list (DeleteUser), so a user who gets
// the extension later starts with none.
func deleteFavourites(tx *bolt.Tx, ext string) error {
	return tx.Bucket(bucketSettings).Delete([]byte(favouritesKey(ext)))
}
