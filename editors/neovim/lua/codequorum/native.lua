-- Inline suggestions through Neovim's own vim.lsp.inline_completion (Neovim 0.12+).
--
-- Neovim requests, shows and cycles the suggestions itself, and runs an accepted item's
-- `codequorum.accept` command, so the server hears of acceptances. Neovim has no hook for
-- "shown" or "dismissed": set `native = false` to have the plugin report those as well.
local M = {}

function M.attach(bufnr, _, client)
  vim.lsp.inline_completion.enable(true, { bufnr = bufnr, client_id = client.id })
end

function M.accept(bufnr)
  return vim.lsp.inline_completion.get({ bufnr = bufnr })
end

function M.next(bufnr)
  vim.lsp.inline_completion.select({ bufnr = bufnr, count = 1 })
end

function M.prev(bufnr)
  vim.lsp.inline_completion.select({ bufnr = bufnr, count = -1 })
end

return M
