package webui

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"callbox/telephony/crm/kb"
)

// The knowledge base's API: everyone reads, supervisors and administrators
// write.
//
//	GET|POST /api/v1/kb/categories, PUT|DELETE /api/v1/kb/categories/:id
//	GET    /api/v1/kb/articles?q=&category=   search, or list a category (0: all)
//	POST   /api/v1/kb/articles
//	GET    /api/v1/kb/articles/:id            with "blocks", the formatted body
//	PUT    /api/v1/kb/articles/:id            a new version ("version": the one edited)
//	DELETE /api/v1/kb/articles/:id
//	GET    /api/v1/kb/articles/:id/versions
func (s *Server) kbRoutes(g *gin.RouterGroup) {
	g.GET("/kb/categories", s.apiKBCategories)
	g.POST("/kb/categories", s.apiKBCategorySave)
	g.PUT("/kb/categories/:id", s.apiKBCategorySave)
	g.DELETE("/kb/categories/:id", s.apiKBCategoryDelete)
	g.GET("/kb/articles", s.apiKBArticles)
	g.POST("/kb/articles", s.apiKBArticleSave)
	g.GET("/kb/articles/:id", s.apiKBArticle)
	g.PUT("/kb/articles/:id", s.apiKBArticleSave)
	g.DELETE("/kb/articles/:id", s.apiKBArticleDelete)
	g.GET("/kb/articles/:id/versions", s.apiKBVersions)
}

func (s *Server) apiKBCategories(c *gin.Context) {
	out, err := s.rec().KB.Categories()
	s.answer(c, http.StatusOK, gin.H{"categories": out}, err)
}

func (s *Server) apiKBCategorySave(c *gin.Context) {
	id, ok := s.optID(c)
	if !ok {
		return
	}
	var in kb.Category
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	in.ID = id
	out, err := s.rec().KB.SaveCategory(actorOf(c), in)
	s.answer(c, createdOr(id), out, err)
}

func (s *Server) apiKBCategoryDelete(c *gin.Context) {
	if id, ok := s.idParam(c, "id"); ok {
		s.answer(c, http.StatusNoContent, nil, s.rec().KB.DeleteCategory(actorOf(c), id))
	}
}

func (s *Server) apiKBArticles(c *gin.Context) {
	if q := c.Query("q"); q != "" {
		limit, ok := s.intQuery(c, "limit", 20, 100)
		if !ok {
			return
		}
		out, err := s.rec().KB.Search(q, limit)
		s.answer(c, http.StatusOK, gin.H{"results": out}, err)
		return
	}
	cat, err := strconv.ParseUint(c.DefaultQuery("category", "0"), 10, 64)
	if err != nil {
		s.failWith(c, fail(http.StatusBadRequest, "err.records.query", "category", "category", uint64(1<<63)))
		return
	}
	out, err := s.rec().KB.List(cat)
	s.answer(c, http.StatusOK, gin.H{"articles": out}, err)
}

// articleView is an article with its formatted body.
type articleView struct {
	kb.Article
	Blocks []kb.Block `json:"blocks"`
}

func (s *Server) apiKBArticle(c *gin.Context) {
	if id, ok := s.idParam(c, "id"); ok {
		a, err := s.rec().KB.Get(id)
		s.answer(c, http.StatusOK, articleView{Article: a, Blocks: kb.Blocks(a.Body)}, err)
	}
}

func (s *Server) apiKBArticleSave(c *gin.Context) {
	id, ok := s.optID(c)
	if !ok {
		return
	}
	var in kb.Article
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	version := in.Version
	in.ID = id
	out, err := s.rec().KB.Save(actorOf(c), in, version)
	s.answer(c, createdOr(id), out, err)
}

func (s *Server) apiKBArticleDelete(c *gin.Context) {
	if id, ok := s.idParam(c, "id"); ok {
		s.answer(c, http.StatusNoContent, nil, s.rec().KB.Delete(actorOf(c), id))
	}
}

func (s *Server) apiKBVersions(c *gin.Context) {
	if id, ok := s.idParam(c, "id"); ok {
		out, err := s.rec().KB.Versions(id)
		s.answer(c, http.StatusOK, gin.H{"versions": out}, err)
	}
}
