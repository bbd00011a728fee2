-- Where the plugin stands with its server: disabled, starting, loading models (the server's
-- `codequorum/status` while it warms up), ready, disconnected (retrying) or error. Every
-- change fires `User CodequorumStatus`, so that a statusline can follow `statusline()`.
local M = {}

local current = { kind = "starting" }

local TEXT = {
  disabled = "codequorum: disabled",
  starting = "codequorum: starting",
  loading = "codequorum: loading models",
  ready = "codequorum: ready",
  disconnected = "codequorum: disconnected",
  error = "codequorum: error",
}

function M.get()
  return current
end

--- `state`: { kind = ..., where = ..., message = ..., retry_in_s = ... }
function M.set(state)
  current = state
  if state.kind == "error" and state.message then
    vim.notify("codequorum: " .. state.message, vim.log.levels.ERROR)
  end
  vim.api.nvim_exec_autocmds("User", { pattern = "CodequorumStatus", modeline = false })
end

--- The server's own report: { state = "loading" | "ready" | "error", seconds?, message? }.
function M.from_server(status, where)
  if status.state == "loading" then
    M.set({ kind = "loading", where = where })
  elseif status.state == "error" then
    M.set({ kind = "error", where = where, message = status.message })
  else
    M.set({ kind = "ready", where = where, seconds = status.seconds })
  end
end

--- One line for a statusline.
function M.statusline()
  return TEXT[current.kind] or "codequorum"
end

--- What `:Codequorum status` says.
function M.describe()
  local parts = { M.statusline() }
  if current.where and current.where ~= "" then
    parts[#parts + 1] = "(" .. current.where .. ")"
  end
  if current.seconds then
    parts[#parts + 1] = ("models loaded in %.1f s"):format(current.seconds)
  end
  if current.retry_in_s then
    parts[#parts + 1] = ("retrying in %d s"):format(current.retry_in_s)
  end
  if current.message then
    parts[#parts + 1] = "- " .. current.message
  end
  return table.concat(parts, " ")
end

return M
