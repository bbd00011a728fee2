-- The codequorum language server: one client for the whole Neovim session, so that the
-- models load once, attached to every buffer that asks for suggestions.
local M = {}

local NAME = "codequorum"
local FEEDBACK = "codequorum/feedback"
local EXECUTE = "workspace/executeCommand"

-- Neovim 0.11 turned the client's functions into methods (`client:request`).
local methods = vim.fn.has("nvim-0.11") == 1

local client_id

local function capabilities()
  return vim.tbl_deep_extend("keep", vim.lsp.protocol.make_client_capabilities(), {
    textDocument = { inlineCompletion = { dynamicRegistration = false } },
  })
end

local function lsp_config(config)
  return {
    name = NAME,
    cmd = config.cmd,
    root_dir = vim.fn.getcwd(),
    -- An empty Lua table would be sent as a JSON array, which the server refuses.
    init_options = next(config.settings) ~= nil and config.settings or nil,
    capabilities = capabilities(),
    -- The server's classic completions are for clients without inline ones. A completion menu
    -- (nvim-cmp, vim.lsp.completion) would ask on every keystroke too, and the server keeps one
    -- query per document, so each would stop the other's models.
    on_init = function(lsp_client)
      lsp_client.server_capabilities.completionProvider = nil
    end,
  }
end

--- The running client, if the server was started.
function M.get()
  return client_id and vim.lsp.get_client_by_id(client_id) or nil
end

--- Attach `bufnr` to the server, starting it first if it is not running.
function M.attach(bufnr, config)
  local client = M.get()
  if client then
    vim.lsp.buf_attach_client(bufnr, client.id)
  elseif vim.lsp.start then
    client_id = vim.lsp.start(lsp_config(config), { bufnr = bufnr })
  else
    client_id = vim.lsp.start_client(lsp_config(config))
    if client_id then
      vim.lsp.buf_attach_client(bufnr, client_id)
    end
  end
  return M.get()
end

--- Send a request; returns whether it was sent and its id (for `cancel`).
function M.request(client, method, params, handler, bufnr)
  if methods then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

function M.cancel(client, request_id)
  if methods then
    return client:cancel_request(request_id)
  end
  return client.cancel_request(request_id)
end

function M.notify(client, method, params)
  if methods then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

--- Run a server command (`codequorum.accept`, `codequorum.generate`, `codequorum.stats`).
function M.execute(client, command, bufnr, handler)
  local params = { command = command.command, arguments = command.arguments }
  return M.request(client, EXECUTE, params, handler or function() end, bufnr)
end

--- Tell the server what the user did with a suggestion: "shown" or "dismissed" (acceptance
--- goes through the suggestion's own `codequorum.accept` command).
function M.feedback(client, suggestion_id, event)
  M.notify(client, FEEDBACK, { id = suggestion_id, event = event })
end

--- Send new settings; the server lays them over its configuration file.
function M.configure(client, settings)
  M.notify(client, "workspace/didChangeConfiguration", {
    settings = next(settings) ~= nil and settings or vim.empty_dict(),
  })
end

return M
